"""The prompt registry: built-in defaults from files, placeholder validation, rendering."""

from __future__ import annotations

import pytest

from igny8_app.ai import prompt_registry as reg


def test_every_default_file_exists_and_validates():
    for name, spec in reg.SPECS.items():
        text = reg.default_template(name)
        assert reg.validate(name, text) == text
        assert set(spec.required) <= reg.placeholders(text) <= spec.allowed


def test_dropping_a_required_placeholder_is_refused_with_its_name():
    with pytest.raises(reg.PromptError) as info:
        reg.validate("ideas", "Ideas for {{cluster_name}} please.")
    assert str(info.value) == ("The Clusters → Ideas prompt was not saved: it must keep the placeholder(s) "
                               "{{keywords}}, {{max_ideas}}.")


def test_unknown_placeholders_and_empty_and_unknown_prompts_are_refused():
    with pytest.raises(reg.PromptError, match=r"unknown placeholder\(s\) \{\{colour\}\} \(allowed: "):
        reg.validate("content", "{{title}} {{keywords}} {{colour}}")
    with pytest.raises(reg.PromptError, match="is empty"):
        reg.validate("content", "  \n ")
    with pytest.raises(reg.PromptError, match="Unknown prompt 'poems'"):
        reg.validate("poems", "{{title}}")
    with pytest.raises(reg.PromptError, match="too long"):
        reg.validate("content", "{{title}} {{keywords}}" + "x" * reg.MAX_TEMPLATE_CHARS)


def test_render_fills_placeholders_once_and_prefers_the_override():
    out = reg.render("images", {"prompt": "A cat {{title}}", "title": "T"})
    assert out.startswith("A cat {{title}}. High quality")  # values are not expanded again
    assert reg.render("images", {"prompt": "x"}, {"images": "<{{ prompt }}|{{title}}>"}) == "<x|>"
    assert reg.validate("content", "Write {{ title }}\r\nabout {{keywords}}\n") == "Write {{ title }}\nabout {{keywords}}"
