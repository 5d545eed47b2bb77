"""Schemathesis hooks for tests/api-fuzz/run.sh (loaded through SCHEMATHESIS_HOOKS).

A fresh `Idempotency-Key` for every request. Hypothesis draws few distinct small strings, so
generated keys repeat: a later POST with a key already used for another body is answered
422 ("the Idempotency-Key was used with another request"), one with the same body is a replay of
the first answer, and one racing the first is 409. None of these reaches the handler, so the
generated body would go untested. In a positive case a key is therefore replaced, just before the
request is sent, by one never used before (a key the schema does not allow is sent as drawn).
"""

import re
import uuid

import schemathesis

HEADER = "idempotency-key"
# As the header's schema in openapi/openapi.json: 1–255 visible ASCII characters, inner blanks
# and tabs allowed.
VALID_KEY = re.compile(r"[!-~]([\t -~]{0,253}[!-~])?")


def is_negative(case):
    meta = case.meta
    return meta is not None and meta.generation.mode.is_negative


@schemathesis.hook
def before_call(context, case, kwargs):
    headers = case.headers
    # Negative cases keep what was drawn: editing them makes Schemathesis check them again, and
    # one that leaves out a required header (`Authorization`) would then be sent with it. They are
    # to be refused anyway, and a refused request never stores its key.
    if not headers or is_negative(case):
        return
    for name, value in list(headers.items()):
        if name.lower() == HEADER and isinstance(value, str) and VALID_KEY.fullmatch(value):
            headers[name] = f"fuzz-{uuid.uuid4()}"
