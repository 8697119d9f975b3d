"""Template rendering: variables, defaults, strict undefined, the sandbox and its bounds."""

from __future__ import annotations

from rest_connector.pipeline.load import load_yaml
from rest_connector.pipeline.render import render_templates


def render(text: str, env=None, variables=None):
    return render_templates(load_yaml(text), env or {}, variables or {})


def test_dt_default_applies_when_unset_or_empty_and_var_wins_when_set():
    text = "since: \"{{ dt | default('2025-01-01') }}\"\n"
    assert render(text) == ({"since": "2025-01-01"}, [])
    assert render(text, variables={"dt": ""}) == ({"since": "2025-01-01"}, [])
    assert render(text, variables={"dt": "2025-06-30"}) == ({"since": "2025-06-30"}, [])


def test_env_and_vars_are_rendered_once_never_again():
    data, problems = render('a: "{{ env.BASE }}/x?d={{ day }}"\nb: "{{ env.TRICK }}"\n',
                            env={"BASE": "http://h", "TRICK": "{{ env.BASE }}"},
                            variables={"day": "3"})
    assert problems == []
    assert data == {"a": "http://h/x?d=3", "b": "{{ env.BASE }}"}


def test_missing_env_variable_is_an_error_naming_variable_field_and_line():
    data, [problem] = render("auth:\n  type: bearer\n  token: \"{{ env.API_TOKEN }}\"\n")
    assert str(problem) == ("line 3: auth.token: environment variable API_TOKEN is not set "
                            "(template uses env.API_TOKEN)")
    assert data["auth"]["token"] != ""


def test_missing_plain_variable_suggests_var_or_default():
    _, [problem] = render('since: "{{ dt }}"\n')
    assert "variable 'dt' is not set: pass --var dt=VALUE" in str(problem)


def test_sandbox_escape_is_blocked():
    _, [problem] = render('x: "{{ cycler.__init__.__globals__ }}"\n')
    assert "blocked by the template sandbox" in problem.message
    assert "unsafe" in problem.message


def test_huge_output_memory_and_time_are_bounded_per_template():
    text = ('big: "{{ \'x\' * 2000000 }}"\n'
            'mem: "{{ \'a\' * 10**10 }}"\n'
            'ok: "{{ 1 + 1 }}"\n')
    data, problems = render(text)
    assert data["ok"] == "2"
    messages = {problem.path: problem.message for problem in problems}
    assert messages[("big",)] == "rendered value is larger than 1,000,000 characters"
    assert "more memory" in messages[("mem",)]


def test_endless_template_is_stopped_and_the_others_still_render(monkeypatch):
    monkeypatch.setattr("rest_connector.pipeline.render.RENDER_TIMEOUT_SECONDS", 1.0)
    text = ('slow: "{% for i in range(100000) %}{% for j in range(100000) %}'
            '{% endfor %}{% endfor %}"\nafter: "{{ 2 * 3 }}"\n')
    data, [problem] = render(text)
    assert problem.path == ("slow",)
    assert problem.message == "rendering took longer than 1 s"
    assert data["after"] == "6"
