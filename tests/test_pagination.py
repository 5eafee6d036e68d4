"""Drupal 7's full pager: which links appear on which page."""

from __future__ import annotations

import pytest

from lenta.web.pagination import drupal_pager


def labels(page: int, count: int) -> list[str]:
    names = {"first": "«", "previous": "‹", "ellipsis": "…", "next": "›", "last": "»"}
    out = []
    for link in drupal_pager(page, count):
        if link.kind == "current":
            out.append(f"[{link.label}]")
        else:
            out.append(names.get(link.kind, link.label))
    return out


def test_one_page_has_no_pager() -> None:
    assert drupal_pager(0, 1) == []
    assert drupal_pager(0, 0) == []


def test_first_page_leaves_out_first_and_previous() -> None:
    assert labels(0, 15) == ["[1]", "2", "3", "4", "5", "6", "7", "8", "9", "…", "›", "»"]


def test_middle_page_centres_the_current_one() -> None:
    assert labels(9, 15) == ["«", "‹", "…", "6", "7", "8", "9", "[10]", "11", "12", "13", "14", "…", "›", "»"]


def test_last_page_leaves_out_next_and_last() -> None:
    assert labels(14, 15) == ["«", "‹", "…", "7", "8", "9", "10", "11", "12", "13", "14", "[15]"]


def test_fewer_than_ten_pages_show_every_number_without_ellipsis() -> None:
    assert labels(0, 5) == ["[1]", "2", "3", "4", "5", "›", "»"]
    assert labels(2, 5) == ["«", "‹", "1", "2", "[3]", "4", "5", "›", "»"]
    assert labels(4, 5) == ["«", "‹", "1", "2", "3", "4", "[5]"]
    assert labels(8, 9) == ["«", "‹", "1", "2", "3", "4", "5", "6", "7", "8", "[9]"]


def test_exactly_ten_pages_hide_one_page_with_an_ellipsis() -> None:
    assert labels(0, 10) == ["[1]", "2", "3", "4", "5", "6", "7", "8", "9", "…", "›", "»"]
    assert labels(9, 10) == ["«", "‹", "…", "2", "3", "4", "5", "6", "7", "8", "9", "[10]"]


def test_near_the_start_the_window_shifts_right() -> None:
    assert labels(2, 20) == ["«", "‹", "1", "2", "[3]", "4", "5", "6", "7", "8", "9", "…", "›", "»"]


@pytest.mark.parametrize("page", [-3, 99])
def test_out_of_range_pages_are_clamped(page: int) -> None:
    links = drupal_pager(page, 4)
    assert [link.kind for link in links].count("current") == 1


def test_links_target_zero_based_pages() -> None:
    links = {link.kind: link.page for link in drupal_pager(9, 15) if link.kind != "item"}
    assert links == {"first": 0, "previous": 8, "ellipsis": None, "current": 9, "next": 10, "last": 14}
