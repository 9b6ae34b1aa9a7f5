"""JSON answers encoded by orjson read back exactly as Flask's own encoder's would."""

import json
from datetime import UTC, date, datetime

import pytest
from flask import jsonify


@pytest.mark.parametrize(
    ("value", "read_back"),
    [
        ({"name": "Doña Ana", "emoji": "☕"}, {"name": "Doña Ana", "emoji": "☕"}),
        ({"groups": {"in_progress": [], "online_now": [1]}}, None),  # keys keep their order
        ({"sources": ({"id": "a"}, {"id": "b"})}, {"sources": [{"id": "a"}, {"id": "b"}]}),
        ({1: "one"}, {"1": "one"}),
        ({"at": datetime(2026, 11, 24, 19, tzinfo=UTC)}, {"at": "Tue, 24 Nov 2026 19:00:00 GMT"}),
        ({"day": date(2026, 11, 24)}, {"day": "Tue, 24 Nov 2026 00:00:00 GMT"}),
        ({"ratio": 0.1, "big": 2**53, "none": None, "yes": True}, None),
    ],
)
def test_answers_read_back_as_flasks_encoder_gives_them(app, value, read_back):
    with app.test_request_context("/api/v1/search"):
        body = jsonify(value).get_data(as_text=True)
        flask_own = json.loads(super(type(app.json), app.json).dumps(value))
    assert json.loads(body) == (value if read_back is None else read_back) == flask_own
    assert list(json.loads(body)) == list(flask_own)


def test_options_only_flasks_encoder_knows_still_work(app):
    assert app.json.dumps({"b": 1, "a": 2}, indent=2, sort_keys=True) == '{\n  "a": 2,\n  "b": 1\n}'


def test_an_api_answer_is_utf8_json(client):
    answer = client.get("/api/v1/kinds")
    assert answer.mimetype == "application/json"
    assert "Reunión" in answer.get_data(as_text=True)
