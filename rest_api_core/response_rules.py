"""Response rules: what an answer means when its status alone does not say it.

An API may answer 200 with an error in the body ("rate limited", GraphQL ``errors``), or 404
with a body that means "nothing here" while other 404s are real errors. Rules are tried in
order; the first whose ``when`` matches decides: ``retry`` (under the stream's retry policy,
``wait`` seconds or the ``Retry-After`` the server sends), ``fail`` (the message quotes the
body's error text, redacted), or ``ignore`` (zero records, no next page). No match keeps the
status's own meaning.

Matchers are plain data (status, a dot path with equals / in / present, a plain substring of
the body): no regular expressions, no templating, no code.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
import requests

from rest_api_core.dot_paths import dig
from rest_api_core.errors import ConfigError, HTTPStatusError
from rest_api_core.redact import SECRETS
from rest_api_core.retry import RetriableStatusError

ACTIONS = ("retry", "fail", "ignore")
QUOTED_CHARS = 512
_ABSENT = object()
_WHEN_KEYS = frozenset({"status", "field", "equals", "in", "present", "body_contains"})


class RuleFailedError(HTTPStatusError):
    """A response a ``fail`` rule matched."""


class RuleRetryError(RetriableStatusError):
    """A response a ``retry`` rule matched; ``wait`` (seconds) overrides the backoff."""

    def __init__(self, message: str, response: requests.Response, wait: float | None) -> None:
        super().__init__(message, response)
        self.wait = wait


@dataclass(frozen=True)
class ResponseRule:
    """One checked rule: a matcher and what a match means."""

    action: str
    statuses: frozenset[int] = frozenset()
    field: str | None = None
    equals: Any = _ABSENT
    one_of: tuple[Any, ...] | None = None
    present: bool | None = None
    body_contains: str | None = None
    wait: float | None = None
    source: str = "response.rules"
    """The setting that holds this rule, for messages."""

    def matches(self, status: int, body: bytes, document: Any) -> bool:
        """True if the answer (``document``: the body decoded, or ``_ABSENT``) matches."""
        if self.statuses and status not in self.statuses:
            return False
        if self.body_contains is not None and self.body_contains.encode() not in body:
            return False
        if self.field is None:
            return True
        value = _ABSENT if document is _ABSENT else dig(document, self.field, _ABSENT)
        if self.present is not None:
            return (value is not _ABSENT and value is not None) == self.present
        if self.equals is not _ABSENT:
            return value is not _ABSENT and value == self.equals
        return value is not _ABSENT and value in (self.one_of or ())

    @property
    def why_empty(self) -> str:
        """How a log line says an ``ignore`` rule matched."""
        if self.source.endswith("empty_on"):
            return f"is in {self.source}"
        return f"matches {self.source} (ignore)"

    def quoted(self, body: bytes, document: Any) -> str:
        """The body's error text, redacted and cut to a readable length: the matched field
        when it holds an object or a list (GraphQL ``errors``), else the whole body."""
        if document is _ABSENT:
            document = _decoded(body)
        value = dig(document, self.field, None) if self.field and document is not _ABSENT else None
        if not isinstance(value, (dict, list)):
            value = document
        if value is _ABSENT:
            text = " ".join(body.decode("utf-8", errors="replace").split())
        else:
            text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        if len(text) > QUOTED_CHARS:
            text = text[:QUOTED_CHARS] + "..."
        return SECRETS.redact(text)


def parse_rules(rules: Sequence[Any] | None, field_path: str, empty_on: Iterable[int] = (),
                empty_on_path: str = "response.empty_on") -> tuple[ResponseRule, ...]:
    """Checked rules from ``response.rules`` (at ``field_path``); ``empty_on`` statuses become
    an ``ignore`` rule tried after them."""
    if rules is not None and not isinstance(rules, list):
        msg = f"{field_path}: expected a list of rules, got {type(rules).__name__}"
        raise ConfigError(msg)
    parsed = [_parse_rule(rule, f"{field_path}[{index}]")
              for index, rule in enumerate(rules or ())]
    statuses = frozenset(empty_on)
    if statuses:
        parsed.append(ResponseRule("ignore", statuses=statuses, source=empty_on_path))
    return tuple(parsed)


def _parse_rule(rule: Any, where: str) -> ResponseRule:
    if not isinstance(rule, dict) or set(rule) - {"when", "then", "wait"}:
        msg = f"{where}: expected {{when: {{...}}, then: retry|fail|ignore, wait: seconds}}"
        raise ConfigError(msg)
    action = rule.get("then")
    if action not in ACTIONS:
        msg = f"{where}.then: expected one of {', '.join(ACTIONS)}, got {action!r}"
        raise ConfigError(msg)
    wait = rule.get("wait")
    if wait is not None and (action != "retry" or isinstance(wait, bool)
                             or not isinstance(wait, (int, float)) or wait < 0):
        msg = f"{where}.wait: expected seconds (a number of at least 0) on a retry rule"
        raise ConfigError(msg)
    when = rule.get("when")
    if not isinstance(when, dict) or not when:
        msg = f"{where}.when: expected a matcher (status, field, body_contains)"
        raise ConfigError(msg)
    unknown = set(when) - _WHEN_KEYS
    if unknown:
        msg = (f"{where}.when: unknown key(s) {', '.join(sorted(unknown))}; expected "
               f"{', '.join(sorted(_WHEN_KEYS))}")
        raise ConfigError(msg)
    return ResponseRule(action=action, statuses=_statuses(when.get("status"), f"{where}.when"),
                        wait=None if wait is None else float(wait),
                        body_contains=_body_contains(when.get("body_contains"), where),
                        source=where,
                        **_field_matcher(when, f"{where}.when"))


def _statuses(value: Any, where: str) -> frozenset[int]:
    values = value if isinstance(value, list) else [] if value is None else [value]
    for status in values:
        if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
            msg = f"{where}.status: expected an HTTP status or a list of them, got {status!r}"
            raise ConfigError(msg)
    return frozenset(values)


def _body_contains(value: Any, where: str) -> str | None:
    if value is not None and (not isinstance(value, str) or not value):
        msg = f"{where}.when.body_contains: expected a non-empty string (plain text)"
        raise ConfigError(msg)
    return value


def _field_matcher(when: dict[str, Any], where: str) -> dict[str, Any]:
    tests = [key for key in ("equals", "in", "present") if key in when]
    field = when.get("field")
    if field is None:
        if tests:
            msg = f"{where}.{tests[0]}: needs `field` (the dot path it tests)"
            raise ConfigError(msg)
        return {}
    if not isinstance(field, str) or not field:
        msg = f"{where}.field: expected a dot path such as error.code"
        raise ConfigError(msg)
    if len(tests) != 1:
        msg = f"{where}: `field` takes exactly one of equals, in, present (got {tests or 'none'})"
        raise ConfigError(msg)
    test = tests[0]
    if test == "in" and not isinstance(when["in"], list):
        msg = f"{where}.in: expected a list of values"
        raise ConfigError(msg)
    if test == "present" and not isinstance(when["present"], bool):
        msg = f"{where}.present: expected true or false"
        raise ConfigError(msg)
    found = {"equals": {"equals": when.get("equals")},
             "in": {"one_of": tuple(when.get("in") or ())},
             "present": {"present": when.get("present")}}[test]
    return {"field": field, **found}


class ResponseRules:
    """A stream's (or a sink's) rules, applied to each answer."""

    def __init__(self, rules: Sequence[ResponseRule] = ()) -> None:
        self.rules = tuple(rules)

    def __bool__(self) -> bool:
        return bool(self.rules)

    def match(self, response: requests.Response) -> tuple[ResponseRule, Any] | None:
        """The first rule that matches ``response``, and the body decoded (if it was)."""
        status, body = response.status_code, response.content or b""
        document: Any = None
        decoded = False
        for rule in self.rules:
            if rule.statuses and status not in rule.statuses:
                continue
            if rule.field is not None and not decoded:
                document, decoded = _decoded(body), True
            if rule.matches(status, body, document if decoded else _ABSENT):
                return rule, document if decoded else _ABSENT
        return None

    def ignores(self, response: requests.Response) -> bool:
        """True if the first rule matching ``response`` says ``ignore``."""
        found = self.match(response) if self.rules else None
        return found is not None and found[0].action == "ignore"

    def apply(self, response: requests.Response, describe: str) -> ResponseRule | None:
        """Raise for ``retry`` and ``fail``; return an ``ignore`` rule that matched, or None
        (no rule matched)."""
        found = self.match(response) if self.rules else None
        if found is None:
            return None
        rule, document = found
        message = (f"HTTP {response.status_code} for {describe} matches {rule.source} "
                   f"({rule.action})")
        if rule.action == "ignore":
            return rule
        quoted = rule.quoted(response.content or b"", document)
        if quoted:
            message += f": {quoted}"
        if rule.action == "retry":
            raise RuleRetryError(message, response, rule.wait)
        raise RuleFailedError(message, response.status_code, response)


def _decoded(body: bytes) -> Any:
    try:
        return msgspec.json.decode(body) if body.strip() else _ABSENT
    except msgspec.DecodeError:
        return _ABSENT
