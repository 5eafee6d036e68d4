"""``N_``: marks a string for message extraction (pybabel) without
translating it where it is written; it is translated where it is shown."""


def N_(message: str) -> str:
    return message
