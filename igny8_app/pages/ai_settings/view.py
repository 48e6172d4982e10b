"""The AI settings page (/settings/ai): provider settings, Test connection, prompt overrides."""

from __future__ import annotations

import reflex as rx

from igny8_app.components.layout import page_frame
from igny8_app.components.widgets import card
from igny8_app.pages.ai_settings.state import DEFAULT_CHOICE, AISettingsState as S
from igny8_app.services.automation.ai_settings import MODEL_FIELDS, MODEL_LABELS

SELECT_STYLE = {"width": "100%", "height": "32px", "padding": "0 8px", "borderRadius": "6px",
                "border": "1px solid var(--gray-a7)", "background": "var(--color-surface)", "fontSize": "14px"}


def _hint(name: str, hint: rx.Var | str) -> rx.Component:
    err = S.ai_errors.get(name, "")
    return rx.cond(err != "", rx.text(err, size="1", color="var(--red-11)", id=f"err-{name}"),
                   rx.text(hint, size="1", color_scheme="gray"))


def _input(label: str, name: str, hint: rx.Var | str = "", **props) -> rx.Component:
    return rx.vstack(
        rx.text(label, size="2", weight="medium"),
        rx.input(name=name, default_value=S.ai_form.get(name, ""), id=f"ai-{name}", width="100%", **props),
        _hint(name, hint),
        spacing="1", width="100%",
    )


def _provider_select() -> rx.Component:
    return rx.vstack(
        rx.text("Provider", size="2", weight="medium"),
        rx.el.select(
            rx.el.option("Server default (" + S.ai_defaults.get("provider", "") + ")", value=DEFAULT_CHOICE),
            rx.el.option("Offline (built in, deterministic, no network)", value="offline"),
            rx.el.option("OpenAI-compatible (OpenAI, Ollama, vLLM, LM Studio…)", value="openai"),
            name="provider", default_value=S.ai_form.get("provider", DEFAULT_CHOICE), id="ai-provider",
            style=SELECT_STYLE,
        ),
        _hint("provider", "Which AI your runs use. The settings below apply to the OpenAI-compatible provider."),
        spacing="1", width="100%",
    )


def _provider_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            _provider_select(),
            _input("Base URL", "base_url", "Empty: " + S.ai_defaults.get("base_url", "") +
                   ". For Ollama: http://localhost:11434/v1", placeholder=S.ai_defaults.get("base_url", "")),
            rx.vstack(
                rx.text("API key", size="2", weight="medium"),
                rx.input(name="api_key", type="password", placeholder=rx.cond(
                    S.api_key_hint != "", "Stored key " + S.api_key_hint + " — type a new one to replace it",
                    "Not set (server key: " + S.ai_defaults.get("key", "") + ")"),
                    id="ai-api_key", width="100%", auto_complete="off"),
                rx.hstack(
                    rx.cond(S.api_key_hint != "",
                            rx.text("A key ending in ", rx.code(S.api_key_hint, id="ai-key-hint"),
                                    " is stored (encrypted; never shown in full).", size="1", color_scheme="gray"),
                            rx.text("No key stored for this account.", size="1", color_scheme="gray",
                                    id="ai-key-none")),
                    rx.spacer(),
                    rx.cond(S.api_key_hint != "", rx.el.label(
                        rx.el.input(type="checkbox", name="clear_key", id="ai-clear-key", style={"marginRight": "6px"}),
                        rx.text("Remove the stored key", as_="span", size="1"),
                        style={"display": "flex", "alignItems": "center", "cursor": "pointer"})),
                    width="100%", align="center",
                ),
                _hint("api_key", ""),
                spacing="1", width="100%",
            ),
            rx.grid(*[_input(MODEL_LABELS[f], f"model_{f}", "Empty: " + S.ai_defaults.get(f"model_{f}", "") + (
                                 ". 'offline' draws images locally (servers without images)" if f == "images" else ""),
                             placeholder=S.ai_defaults.get(f"model_{f}", "")) for f in MODEL_FIELDS],
                    columns="2", spacing="3", width="100%"),
            rx.hstack(
                rx.cond(S.ai_saved, rx.text("Saved.", color="var(--green-11)", size="2", id="ai-saved")),
                rx.spacer(),
                rx.button("Save AI settings", type="submit", id="ai-save"),
                width="100%", align="center",
            ),
            spacing="4", width="100%",
        ),
        on_submit=S.save_ai_settings,
        reset_on_submit=False,
        width="100%",
        key=S.form_version.to_string(),
    )


def _connection() -> rx.Component:
    return rx.vstack(
        rx.text("Sends one tiny request (a few tokens) with the saved settings and shows what came back.",
                size="2", color_scheme="gray"),
        rx.button(rx.cond(S.checking, rx.spinner(size="2"), rx.icon("plug-zap", size=16)), "Test connection",
                  on_click=S.test_connection, disabled=S.checking, id="ai-test", variant="soft"),
        rx.cond(
            S.check_message != "",
            rx.callout(S.check_message, icon=rx.cond(S.check_ok, "circle-check", "circle-alert"),
                       color_scheme=rx.cond(S.check_ok, "green", "red"), id="ai-check-result", width="100%"),
        ),
        rx.separator(size="4"),
        rx.text("Runs in progress keep the provider they started with; a pause requested during a long AI call "
                "takes effect when that call returns.", size="1", color_scheme="gray"),
        spacing="3", width="100%",
    )


def _prompt_card(row: rx.Var) -> rx.Component:
    name = row["name"].to(str)
    err = S.prompt_errors.get(name, "")
    return rx.card(
        rx.form(
            rx.vstack(
                rx.hstack(
                    rx.heading(row["label"].to(str), size="3"),
                    rx.cond(row["overridden"].to(bool), rx.badge("custom", color_scheme="indigo"),
                            rx.badge("default", color_scheme="gray")),
                    rx.spacer(),
                    rx.cond(S.prompt_saved == name, rx.text("Saved.", size="1", color="var(--green-11)")),
                    width="100%", align="center",
                ),
                rx.text("Required: ", rx.code(row["required_label"].to(str)), " · optional: ",
                        rx.code(row["optional_label"].to(str)), size="1", color_scheme="gray"),
                rx.el.input(type="hidden", name="name", value=name),
                rx.text_area(name="template", default_value=row["template"].to(str), rows="7", width="100%",
                             id="prompt-" + name, style={"fontFamily": "var(--code-font-family)", "fontSize": "12px"}),
                rx.cond(err != "", rx.callout(err, icon="circle-alert", color_scheme="red", size="1",
                                              id="prompt-error-" + name, width="100%")),
                rx.hstack(
                    rx.text("The JSON reply format is added automatically and cannot be changed here.", size="1",
                            color_scheme="gray"),
                    rx.spacer(),
                    rx.cond(row["overridden"].to(bool),
                            rx.button("Reset to default", type="button", variant="soft", color_scheme="gray",
                                      on_click=S.reset_prompt(name), id="prompt-reset-" + name)),
                    rx.button("Save prompt", type="submit", id="prompt-save-" + name),
                    width="100%", align="center",
                ),
                spacing="2", width="100%",
            ),
            on_submit=S.save_prompt,
            reset_on_submit=False,
            width="100%",
            key=name + S.form_version.to_string(),
        ),
        width="100%",
    )


def ai_settings_page() -> rx.Component:
    return page_frame(
        "AI settings",
        rx.cond(
            S.ai_denied != "",
            rx.callout(S.ai_denied + " AI settings are for account owners and admins.", icon="lock",
                       color_scheme="amber", id="ai-denied"),
            rx.cond(
                ~S.ai_loaded,
                rx.center(rx.spinner(size="3"), height="240px"),
                rx.vstack(
                    rx.grid(card("Provider", _provider_form()), card("Connection", _connection()),
                            columns="2fr 1fr", spacing="4", width="100%"),
                    rx.heading("Prompts", size="5", margin_top="8px"),
                    rx.text("Each AI step uses a prompt template. Placeholders in {{double braces}} are filled with "
                            "the item's data; required ones cannot be removed.", size="2", color_scheme="gray"),
                    rx.grid(rx.foreach(S.prompt_rows, _prompt_card), columns="2", spacing="4", width="100%",
                            id="prompt-list"),
                    width="100%", spacing="4",
                ),
            ),
        ),
    )
