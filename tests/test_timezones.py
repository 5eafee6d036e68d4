"""Times in the site's time zone (issue 10): the setting (the server's zone
by default, any IANA zone by choice, junk refused), every page's times
shown in it with the zone named in their title and UTC in their datetime,
and "… ago" or a date decided on the zone's day, not UTC's."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from email.utils import format_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from httpserver import LocalServer
from httpserver import Reply
from lxml import etree
from lxml import html as lxml_html
from pagetext import parse_page
from test_web import ADMIN
from test_web import PASSWORD
from test_web import client
from test_web import form_token
from test_web import sign_in
from webserver import AppServer

from lenta.config import Settings
from lenta.core import Lenta
from lenta.core import make_lenta
from lenta.exceptions import InvalidInputError
from lenta.site_settings import SiteSettings
from lenta.site_settings import server_time_zone
from lenta.site_settings import time_zones
from lenta.site_settings import zone_for
from lenta.web import create_app
from lenta.web.render import format_date
from lenta.web.render import time_element

# 01:30 UTC on Sunday 1 March 2026: 10:30 the same day in Tokyo, 20:30 the
# day before in New York (UTC-5 until 8 March).
NOW = datetime(2026, 3, 1, 1, 30, tzinfo=UTC)
LATE = datetime(2026, 2, 28, 23, 30, tzinfo=UTC)  # 08:30 on 1 March in Tokyo: "today" there, yesterday in UTC
EARLY = datetime(2026, 2, 28, 14, 0, tzinfo=UTC)  # 23:00 on 28 February in Tokyo
TOKYO = ZoneInfo("Asia/Tokyo")
NEW_YORK = ZoneInfo("America/New_York")


# -- the setting --------------------------------------------------------------


def test_the_default_zone_is_the_servers(tmp_path: Path) -> None:
    tokyo_file = Path("/usr/share/zoneinfo/Asia/Tokyo")
    if not tokyo_file.is_file():
        pytest.skip("no system zoneinfo directory")
    localtime = tmp_path / "localtime"
    localtime.symlink_to(tokyo_file)
    assert server_time_zone({"TZ": "Europe/Berlin"}, localtime) == "Europe/Berlin"
    assert server_time_zone({"TZ": ":Europe/Berlin"}, localtime) == "Europe/Berlin"  # glibc's form
    assert server_time_zone({"TZ": "Not/AZone"}, localtime) == "Asia/Tokyo"  # junk in TZ: the link
    assert server_time_zone({}, localtime) == "Asia/Tokyo"
    assert server_time_zone({}, tmp_path / "missing") == "UTC"  # neither a link nor a file beside it
    copy = tmp_path / "etc" / "localtime"
    copy.parent.mkdir()
    copy.write_bytes(tokyo_file.read_bytes())  # a copy says no name: /etc/timezone does
    (copy.parent / "timezone").write_text("Europe/Moscow\n", encoding="utf-8")
    assert server_time_zone({}, copy) == "Europe/Moscow"


def test_the_setting_takes_iana_zones_and_refuses_anything_else() -> None:
    assert SiteSettings().time_zone == ""  # the server's, whatever it is when the page is drawn
    assert SiteSettings().zone == ZoneInfo(server_time_zone())
    chosen = SiteSettings.from_strings({"time_zone": " Asia/Tokyo "})
    assert chosen.time_zone == "Asia/Tokyo" and chosen.zone == TOKYO
    assert SiteSettings.from_strings(chosen.to_strings()) == chosen
    assert zone_for(None, chosen) == TOKYO
    assert "Europe/Moscow" in time_zones() and "UTC" in time_zones()
    for junk in ("Mars/Olympus_Mons", "localtime", "posixrules", "Factory", "../../etc/passwd", "/etc/localtime", "tokyo"):
        with pytest.raises(InvalidInputError, match="Unknown time zone"):
            SiteSettings.from_strings({"time_zone": junk})


# -- the dates themselves ----------------------------------------------------------


def test_ago_or_a_date_is_decided_on_the_zones_day() -> None:
    assert format_date(LATE, "en", UTC, NOW) == "Sat, 28.02.2026 - 23:30"
    assert format_date(LATE, "en", TOKYO, NOW) == "2 hours ago"
    assert format_date(LATE, "ru", TOKYO, NOW) == "2 часа назад"
    assert format_date(EARLY, "en", TOKYO, NOW) == "Sat, 28.02.2026 - 23:00"
    # Later the same UTC day it is already the next day in Tokyo: the reverse.
    evening = datetime(2026, 3, 1, 16, 0, tzinfo=UTC)  # 01:00 on 2 March in Tokyo
    afternoon = datetime(2026, 3, 1, 14, 0, tzinfo=UTC)  # 23:00 on 1 March in Tokyo
    assert format_date(afternoon, "en", UTC, evening) == "2 hours ago"
    assert format_date(afternoon, "en", TOKYO, evening) == "Sun, 01.03.2026 - 23:00"
    assert format_date(EARLY, "en", NEW_YORK, NOW) == "12 hours ago"  # 09:00 and 20:30 on 28 February there
    assert format_date(NOW + timedelta(hours=1), "en", TOKYO, NOW) == "Sun, 01.03.2026 - 11:30"  # the future: a date


def test_a_time_element_carries_utc_and_names_the_zone() -> None:
    element = lxml_html.fragment_fromstring(str(time_element(LATE, "en", TOKYO, NOW, "feed-item-date")))
    assert element.tag == "time" and element.get("class") == "feed-item-date"
    assert element.get("datetime") == "2026-02-28T23:30:00Z"
    assert element.text_content() == "2 hours ago"
    assert element.get("title") == "1 March 2026, 08:30, time zone Asia/Tokyo (UTC+09:00)"
    russian = lxml_html.fragment_fromstring(str(time_element(EARLY, "ru", NEW_YORK, NOW)))
    assert russian.get("title") == "28 февраля 2026, 09:00, часовой пояс America/New_York (UTC-05:00)"
    assert lxml_html.fragment_fromstring(str(time_element(EARLY, "en", UTC, NOW))).get("title").endswith("(UTC)")


# -- every page, over HTTP -----------------------------------------------------


def feed_body() -> bytes:
    items = "".join(
        f"<item><title>{title}</title><link>https://example.com/{title}</link><guid>{title}</guid>"
        f"<pubDate>{format_datetime(date, usegmt=True)}</pubDate></item>"
        for title, date in (("late", LATE), ("early", EARLY))
    )
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Zones</title>'
        f"<link>https://example.com/</link><description>d</description>{items}</channel></rss>"
    ).encode()


@pytest.fixture
def zoned(settings: Settings) -> Iterator[tuple[Lenta, AppServer, int]]:
    """A site whose clock says NOW, with one fetched feed of two items."""
    lenta = make_lenta(settings, clock=lambda: NOW)
    lenta.add_user("admin", PASSWORD, is_admin=True)
    with LocalServer({"/feed.xml": Reply(body=feed_body(), headers={"Content-Type": "application/rss+xml"})}) as feeds:
        feed = asyncio.run(lenta.add_feed(feeds.url("/feed.xml"), discover=False))
        asyncio.run(lenta.refresh([feed.id]))
    try:
        with AppServer(create_app(settings, lenta)) as web:
            yield lenta, web, feed.id
    finally:
        lenta.close()


def times(page: lxml_html.HtmlElement) -> list[tuple[str, str, str]]:
    """(text, datetime, title) of every <time> of a page."""
    return [(t.text_content(), t.get("datetime", ""), t.get("title", "")) for t in page.cssselect("time")]


def test_every_page_shows_times_in_the_sites_zone(zoned: tuple[Lenta, AppServer, int]) -> None:
    lenta, web, feed_id = zoned
    feed = lenta.get_feed(feed_id)
    assert feed.checked_at == NOW and feed.next_check_at is not None
    with client(web) as http:
        before = times(parse_page(http.get("/aggregator").text))
        sign_in(http)
        token = form_token(http.get(f"{ADMIN}/settings").text)
        refused = http.post(f"{ADMIN}/settings", data={"csrf_token": token, "time_zone": "Mars/Olympus_Mons"})
        saved = http.post(f"{ADMIN}/settings", data={"csrf_token": token, "time_zone": "Asia/Tokyo"})
        settings_page = parse_page(http.get(f"{ADMIN}/settings").text)
        pages = {
            path: parse_page(http.get(path).text)
            for path in (
                "/aggregator",
                f"/aggregator/sources/{feed_id}",
                "/aggregator/sources",
                ADMIN,
                f"{ADMIN}/health/{feed_id}",
                "/admin/people",
            )
        }
        russian = parse_page(http.get("/aggregator", headers={"Accept-Language": "ru"}).text)
        rss = etree.fromstring(http.get("/aggregator/rss").content)
    assert refused.status_code == 400 and "Unknown time zone: Mars/Olympus_Mons" in refused.text
    assert saved.status_code == 303 and lenta.site_settings().time_zone == "Asia/Tokyo"
    assert settings_page.cssselect("#edit-time-zone option[selected]")[0].get("value") == "Asia/Tokyo"

    # The server's zone (UTC here) before the admin chose one: LATE was yesterday.
    assert before[0][:2] == ("Sat, 28.02.2026 - 23:30", "2026-02-28T23:30:00Z")
    river = pages["/aggregator"]
    assert times(river) == [
        ("2 hours ago", "2026-02-28T23:30:00Z", "1 March 2026, 08:30, time zone Asia/Tokyo (UTC+09:00)"),
        ("Sat, 28.02.2026 - 23:00", "2026-02-28T14:00:00Z", "28 February 2026, 23:00, time zone Asia/Tokyo (UTC+09:00)"),
    ]
    assert [t[0] for t in times(russian)] == ["2 часа назад", "сб, 28.02.2026 - 23:00"]
    assert times(pages[f"/aggregator/sources/{feed_id}"])[1:] == times(river)  # after "Updated:"
    assert [t[0] for t in times(pages["/aggregator/sources"])] == [t[0] for t in times(river)]

    # Admin pages: the last and next check and each fetch, in the zone too.
    next_check = feed.next_check_at.astimezone(TOKYO)
    next_text = next_check.strftime("%a, %d.%m.%Y - %H:%M")  # in the future: a date, never "… ago"
    for path in (ADMIN, f"{ADMIN}/health/{feed_id}"):
        shown = times(pages[path])
        assert ("1 second ago", "2026-03-01T01:30:00Z") == shown[0][:2], path
        assert (next_text, feed.next_check_at.astimezone(UTC).isoformat().replace("+00:00", "Z")) == shown[1][:2], path
        assert all("Asia/Tokyo (UTC+09:00)" in title for _, _, title in shown), path
    assert [t[1] for t in times(pages["/admin/people"])] == ["2026-03-01T01:30:00Z"]

    # RSS out stays RFC 822 in GMT, whatever the site's zone.
    assert [date.text for date in rss.iter("pubDate")] == ["Sat, 28 Feb 2026 23:30:00 GMT", "Sat, 28 Feb 2026 14:00:00 GMT"]
