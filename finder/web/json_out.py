"""JSON answers encoded by orjson: the same JSON as Flask's encoder gives (keys in the order
built, dates as HTTP dates), about ten times faster, which an API search needs (issue #14)."""

import orjson
from flask.json.provider import DefaultJSONProvider

OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME  # dates as Flask gives them


class OrjsonProvider(DefaultJSONProvider):
    """Flask's JSON provider with orjson doing the encoding; reading is left to Flask."""

    sort_keys = False  # result groups keep their order: in progress first

    def dumps(self, obj, **kwargs) -> str:
        if kwargs:  # an option only Flask's encoder knows (indent, sort_keys, ...)
            return super().dumps(obj, **kwargs)
        return orjson.dumps(obj, default=self.default, option=OPTIONS).decode()

    def response(self, *args, **kwargs):
        obj = self._prepare_response_obj(args, kwargs)
        body = orjson.dumps(obj, default=self.default, option=OPTIONS)
        return self._app.response_class(body, mimetype=self.mimetype)
