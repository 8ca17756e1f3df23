"""Signing in to the web UI: a token a cookie cannot carry is refused on the page."""

from __future__ import annotations

import re

from tests.api.conftest import Api


async def test_a_token_a_cookie_cannot_carry_is_refused_on_the_login_page(api: Api) -> None:
    # Found by the fuzz campaign: setting the cookie raised UnicodeEncodeError, a 500.
    for token in ("tøken-💥", "x" * 5000, "two words"):
        r = await api.http.post("/ui/login", data={"token": token})
        assert r.status_code == 303 and r.headers["location"].startswith("/ui/login?error=")
        assert "stratgate_token" not in r.headers.get("set-cookie", "")
        page = await api.http.get(r.headers["location"])
        (alert,) = re.findall(r'<p class="error" role="alert">([^<]*)</p>', page.text)
        assert alert.startswith("that is not a stratgate token")
    token = (await api.token("bob"))["authorization"].split()[1]
    r = await api.http.post("/ui/login", data={"token": f" {token} "})
    assert r.status_code == 303 and r.headers["location"] == "/ui/"
    assert f"stratgate_token={token};" in r.headers["set-cookie"]
