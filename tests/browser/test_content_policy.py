"""The content security policy (issue 16, low): the course runs under it without a violation,
and a script injected into the page could neither load foreign code nor send data away."""

from __future__ import annotations

from browser_helpers import TIMEOUT, open_course, open_scenario, sign_in
from playwright.sync_api import ConsoleMessage, Page, expect
from server_helpers import Server

FOREIGN = "http://127.0.0.2:9/x"
#: Listens for the policy's violations; then tries what an injected script would.
TRY_FOREIGN = """async (foreign) => {
  const seen = [];
  document.addEventListener("securitypolicyviolation", (e) => seen.push(e.effectiveDirective));
  try { await fetch(foreign); } catch (error) {}
  const script = document.createElement("script");
  script.src = foreign + ".js";
  document.head.appendChild(script);
  const data = document.createElement("script");
  data.src = "data:text/javascript,window.sqInjected=1";
  document.head.appendChild(data);
  await new Promise((resolve) => setTimeout(resolve, 1000));
  return seen;
}"""


def test_the_course_runs_under_the_policy(server: Server, page: Page) -> None:
    violations: list[str] = []

    def watch(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            violations.append(message.text)

    page.on("console", watch)
    open_course(page, server.page_url())
    sign_in(page, "Tiukka Politiikka", employee="P100")
    expect(page.locator(".sq-who")).to_be_visible(timeout=TIMEOUT)
    open_scenario(page, "Asiakkaan viesti")
    assert violations == []


def test_an_injected_script_reaches_no_other_host(server: Server, page: Page) -> None:
    response = page.goto(server.page_url())
    assert response is not None
    policy = response.headers["content-security-policy"]
    directives = {d.split()[0]: d.split()[1:] for d in policy.split(";") if d.strip()}
    assert directives["default-src"] == ["'self'"] and directives["connect-src"] == ["'self'"]
    assert not {"*", "data:", "http:", "https:"} & set(directives["script-src"])
    blocked = page.evaluate(TRY_FOREIGN, FOREIGN)
    assert sorted(blocked) == ["connect-src", "script-src-elem", "script-src-elem"]
    assert page.evaluate("window.sqInjected") is None
