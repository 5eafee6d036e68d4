"""Text for the synthetic corpus: word pools per language and an HTML item
body generator. Deterministic given the ``random.Random`` passed in.

Every pool is encodable in the legacy encoding its feeds may use
(Russian in windows-1251, French/German in ISO-8859-1), so CDATA sections
never need character references.
"""

from __future__ import annotations

import html
import random

WORDS = {
    "en": (
        "the of and to in is that for it as was with be by on not he this are or his from at which but have an "
        "they you were her she there one all we their can has more if will would been when who other what so "
        "no out up its into than them time only could new some these two may first then do any like my now "
        "over such our man me even most made after also did many before must through back years where much "
        "your way well down should because each just those people how too little state good very make world "
        "still own see men work long get here between both life being under never day same another know while "
        "last might us great old year off come since against go came right used take three feed server release "
        "kernel database parser network latency cache browser compiler runtime storage library protocol "
        "benchmark memory thread process socket cluster schema index query migration deploy pipeline tests "
        "R&D Q&A AT&T"
    ).split(),
    "ru": (
        "и в не на я быть он с что а по это она этот к но они мы как из у который то за свой весь год от так о "
        "для ты же все тот мочь вы человек такой его сказать только или еще бы себя один как уже до время если "
        "сам когда другой вот говорить наш мой знать стать при чтобы дело жизнь кто первый очень два день её "
        "новый рука даже во со раз где там под можно ну какой после их работа без самый потом надо хотеть ли "
        "слово идти большой должен место иметь ничто сервер база данных лента новости обновление выпуск ядро "
        "кэш запрос индекс память поток процесс сеть задержка разработчик проект версия статья читатель "
        "«цитата» — ёлка съезд объявление"
    ).split(),
    "fr": (
        "le de un être et à il avoir ne je son que se qui ce dans en du elle au pour pas que vous par sur faire "
        "plus dire me on mon lui nous comme mais pouvoir avec tout y aller voir bien où sans tu ou leur homme si "
        "deux mari moi vouloir te femme venir quand grand celui notre devoir là jour prendre même votre rien "
        "petit encore aussi quelque dont tout mer trouver donner temps ça peu même falloir sous parler alors "
        "première été déjà très après où à côté façon élève théâtre naïf garçon français château forêt hôpital "
        "événement réseau mémoire bibliothèque serveur mise à jour «guillemets» ça où"
    ).split(),
    "de": (
        "der die und in den von zu das mit sich des auf für ist im dem nicht ein eine als auch es an werden aus "
        "er hat dass sie nach wird bei einer um am sind noch wie einem über einen so zum war haben nur oder aber "
        "vor zur bis mehr durch man sein wurde sei Straße Größe müssen können Übersicht Änderung Öffnung "
        "Schlüssel Gebäude für über groß Fuß weiß Zeitung Datenbank Speicher Rechner Netzwerk Veröffentlichung"
    ).split(),
}

NAMES = {
    "en": ["Alice Walker", "Bob Stone", "Carol King", "Dan Brown", "Eve Adams", "Frank Moore", "Grace Lee"],
    "ru": ["Иван Петров", "Мария Смирнова", "Алексей Кузнецов", "Ольга Попова", "Пётр Соколов"],
    "fr": ["Jérôme Dupré", "Élodie Lefèvre", "François Gérard", "Hélène Moreau", "Noël Côté"],
    "de": ["Jürgen Müller", "Bärbel Schäfer", "Jörg Weiß", "Günter Groß", "Käthe Böhm"],
}

TAGS = {
    "en": ["python", "linux", "databases", "web", "security", "release notes", "science", "culture", "travel"],
    "ru": ["новости", "технологии", "наука", "культура", "безопасность", "релизы", "путешествия"],
    "fr": ["actualités", "sécurité", "logiciel libre", "économie", "société", "théâtre", "météo"],
    "de": ["Nachrichten", "Sicherheit", "Wissenschaft", "Kultur", "Veröffentlichungen", "Straßenbahn"],
}

CODE_SNIPPETS = (
    "if (a < b && c > d) {\n    return x & mask;\n}",
    "for item in feed.items:\n    if item.date > cutoff:\n        yield item  # <new>",
    "SELECT id, title FROM items WHERE feed_id = ? AND date < ? ORDER BY date DESC LIMIT 20;",
    "$ curl -H 'Accept: application/rss+xml' https://example.org/feed.xml | xmllint --format -",
    '<div class="post"><p>Hello &amp; welcome</p></div>',
)

_POOL_SIZE = 1500


def _build_pool(lang: str, rng: random.Random) -> list[str]:
    words = WORDS[lang]
    pool = []
    for _ in range(_POOL_SIZE):
        picked = rng.choices(words, k=rng.randint(6, 18))
        if rng.random() < 0.3:
            picked.insert(rng.randint(1, len(picked) - 1), f"{picked[0]},")
        text = " ".join(picked)
        pool.append(html.escape(text[0].upper() + text[1:] + rng.choice(".....?!"), quote=False))
    return pool


_rng = random.Random("lenta-bench-text-v1")
SENTENCES = {lang: _build_pool(lang, _rng) for lang in WORDS}


def sentence(rng: random.Random, lang: str) -> str:
    """One HTML-escaped sentence."""
    return rng.choice(SENTENCES[lang])


def plain_title(rng: random.Random, lang: str) -> str:
    """A plain-text title (not escaped), 3-9 words."""
    text = " ".join(rng.choices(WORDS[lang], k=rng.randint(3, 9)))
    return text[0].upper() + text[1:]


def _link(rng: random.Random, site: str) -> str:
    r = rng.random()
    if r < 0.35:
        return f"/{rng.randint(2019, 2025)}/{rng.randint(1, 12):02d}/post-{rng.randint(1, 9999)}.html"
    if r < 0.45:
        return f"../tags/{rng.randint(1, 300)}/"
    if r < 0.75:
        return f"{site}archive/{rng.randint(1, 5000)}?ref=feed&amp;utm_source=rss"
    return f"https://news{rng.randint(1, 400)}.example.net/a/{rng.randint(1, 10**6)}"


def _inline(rng: random.Random, lang: str, site: str) -> str:
    text = sentence(rng, lang)
    r = rng.random()
    if r < 0.25:
        return f'<a href="{_link(rng, site)}">{text}</a>'
    if r < 0.35:
        return f"<strong>{text}</strong>"
    if r < 0.45:
        return f"<em>{text}</em>"
    if r < 0.5:
        return f"{text} <code>{html.escape(rng.choice(CODE_SNIPPETS).splitlines()[0])}</code>"
    return text


def _paragraph(rng: random.Random, lang: str, site: str) -> str:
    body = " ".join(_inline(rng, lang, site) for _ in range(rng.randint(2, 7)))
    r = rng.random()
    if r < 0.03:
        return f'<p onclick="track({rng.randint(1, 99)})" style="color:red">{body}</p>'
    return f"<p>{body}</p>"


def _image(rng: random.Random, lang: str, site: str) -> str:
    src = (
        f"images/{rng.randint(1, 999)}.jpg"
        if rng.random() < 0.4
        else f"https://cdn{rng.randint(1, 9)}.example.com/i/{rng.randint(1, 10**7)}.png"
    )
    img = (
        f'<img src="{src}" alt="{html.escape(plain_title(rng, lang))}" width="{rng.choice((320, 640, 800))}" '
        f'height="{rng.choice((240, 480, 600))}" />'
    )
    if rng.random() < 0.5:
        return f"<figure>{img}<figcaption>{sentence(rng, lang)}</figcaption></figure>"
    return f"<p>{img}</p>"


def _block(rng: random.Random, lang: str, site: str) -> str:
    r = rng.random()
    if r < 0.58:
        return _paragraph(rng, lang, site)
    if r < 0.65:
        level = rng.choice((2, 3))
        return f"<h{level}>{sentence(rng, lang)}</h{level}>"
    if r < 0.73:
        tag = rng.choice(("ul", "ol"))
        items = "".join(f"<li>{_inline(rng, lang, site)}</li>" for _ in range(rng.randint(2, 8)))
        return f"<{tag}>{items}</{tag}>"
    if r < 0.79:
        return f"<blockquote>{_paragraph(rng, lang, site)}</blockquote>"
    if r < 0.84:
        code = html.escape(rng.choice(CODE_SNIPPETS))
        return f'<pre><code class="language-{rng.choice(("python", "sql", "c", "sh"))}">{code}</code></pre>'
    if r < 0.93:
        return _image(rng, lang, site)
    if r < 0.95:
        rows = "".join(
            "<tr>" + "".join(f"<td>{rng.randint(0, 10**5)}</td>" for _ in range(4)) + "</tr>" for _ in range(rng.randint(2, 6))
        )
        return f"<table><tr><th>a</th><th>b</th><th>c</th><th>d</th></tr>{rows}</table>"
    if r < 0.97:
        return f'<script>document.write("tracker {rng.randint(1, 10**6)}")</script>'
    if r < 0.98:
        return f'<iframe src="https://video.example.com/embed/{rng.randint(1, 10**6)}"></iframe>'
    return f'<div class="ad"><a href="{_link(rng, site)}" onclick="return false">{sentence(rng, lang)}</a></div>'


def item_html(rng: random.Random, lang: str, target: int, site: str) -> str:
    """Well-formed (XHTML-safe) item HTML of roughly ``target`` characters."""
    parts: list[str] = []
    size = 0
    while size < target:
        block = _block(rng, lang, site)
        parts.append(block)
        size += len(block)
    return "\n".join(parts)


def summary(rng: random.Random, lang: str) -> str:
    """A short plain-text summary (HTML-escaped)."""
    return " ".join(sentence(rng, lang) for _ in range(rng.randint(1, 3)))
