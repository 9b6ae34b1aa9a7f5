"""Search answers kept for the minute they answer (issue #14).

A search answers "near here, now", and now is the current minute (``answers.now``): everyone
who asks the same question within one minute gets the same answer. The first request of the
minute renders it; the others in that minute (in this process, on this database generation) get
the same bytes, as an HTTP cache in front of the site would give them, but exactly: the key names
everything an answer depends on. A new minute, file, language or report is a new key.
"""

from collections.abc import Callable

from flask import Response, current_app, request
from werkzeug.http import generate_etag

from finder.web import i18n
from finder.web.answers import now
from finder.web.state import get_memo

SIZE = 256  # answers kept per generation: a page or a JSON answer is 20–70 KB (≤ 18 MB)


def kept(render: Callable, *depends):
    """render()'s answer to this request, rendered once per minute and kept for it.

    :param render: gives a page (str) or a JSON response; anything else (an error, a redirect)
        is passed on and not kept
    :param depends: what else the answer depends on besides the URL, its language and the minute
    """
    key = (request.full_path, i18n.language(), i18n.chosen_language(), now(), *depends)
    memo = get_memo("answers", SIZE)
    found = memo.get(key)
    if isinstance(found, tuple):
        return _json_response(*found)
    if found is not None:
        return found
    answer = render()
    if isinstance(answer, str):
        memo.put(key, answer)
    elif isinstance(answer, Response) and answer.status_code == 200 and answer.is_json:
        body = answer.get_data()
        answer.set_etag(etag := generate_etag(body))
        memo.put(key, (body, etag))
    return answer


def _json_response(body: bytes, etag: str) -> Response:
    """A kept JSON answer, with the ETag of its bytes worked out when it was rendered."""
    response = current_app.response_class(body, mimetype="application/json")
    response.set_etag(etag)
    return response
