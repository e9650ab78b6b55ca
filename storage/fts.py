# SPDX-License-Identifier: Apache-2.0
"""Full-text helpers: what a memory puts into FTS5, and how user text becomes a safe MATCH.

No user text reaches FTS5 syntax raw: a query is cut into word tokens, each token is quoted, and
the tokens are OR-ed, so `"AND OR NEAR( *` is just three harmless words. Code identifiers are
split (`refreshToken`, `refresh_token` -> `refresh token`) on both sides, so they meet.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_WORD = re.compile(r"\w+", re.UNICODE)
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")

STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further had
    has have having he her here hers herself him himself his how i if in into is it its itself just
    me more most my myself no nor not now of off on once only or other our ours ourselves out over
    own same she should so some such than that the their theirs them themselves then there these
    they this those through to too under until up very was we were what when where which while who
    whom why will with would you your yours yourself yourselves""".split()
)


def identifier_parts(token: str) -> list[str]:
    """`refreshToken` -> [refresh, token]; `refresh_token` -> [refresh, token]; `v2` -> [v, 2]."""
    parts: list[str] = []
    for piece in token.split("_"):
        if piece:
            parts.extend(p.lower() for p in _CAMEL.findall(piece) or [piece])
    return parts


def split_identifiers(text: str) -> str:
    """The extra words that identifiers in `text` contribute (only where splitting adds any)."""
    extra: list[str] = []
    for token in _WORD.findall(text):
        parts = identifier_parts(token)
        if len(parts) > 1:
            extra.extend(parts)
    return " ".join(extra)


def query_terms(query: str) -> list[str]:
    """Distinct lower-case search terms of a user query, stopwords dropped (unless nothing is left)."""
    terms: list[str] = []
    for token in _WORD.findall(query):
        low = token.lower()
        candidates = [low] + [p for p in identifier_parts(token) if p != low]
        for t in candidates:
            if t not in terms:
                terms.append(t)
    kept = [t for t in terms if t not in STOPWORDS]
    return kept or terms


_SIMPLE_ID = re.compile(r"^[A-Za-z0-9_]+$")


def project_token(project_id: str) -> str | None:
    """The word in a memory's FTS5 `scope` column naming its project, so that a search in one
    project scores that project's matches only (the project filter still applies after; BM25
    weighs the column 0). None for an id with other characters: its memories carry no word, and
    searches in it filter afterwards only. Migration 0007 writes the same word in SQL."""
    return "zproj" + project_id.replace("_", "").lower() if _SIMPLE_ID.match(project_id) else None


def within_projects(match: str, project_ids: list[str] | None) -> str:
    """`match` narrowed to a few projects by their tokens; unchanged when that cannot be done."""
    if not project_ids or len(project_ids) > 20:
        return match
    tokens = [project_token(p) for p in project_ids]
    if any(t is None for t in tokens):
        return match
    return f"({match}) AND scope : ({' OR '.join(chr(34) + t + chr(34) for t in tokens)})"


def match_all_expression(query: str) -> str | None:
    """A MATCH that needs every word of the query (each word or its identifier parts), or None
    when the query has fewer than two words: the cheap first try before `match_expression`."""
    groups: list[list[str]] = []
    seen: set[str] = set()
    for token in _WORD.findall(query):
        low = token.lower()
        if low in STOPWORDS or low in seen:
            continue
        seen.add(low)
        groups.append([low] + [p for p in identifier_parts(token) if p != low])
    if len(groups) < 2:
        return None
    return " AND ".join("(" + " OR ".join('"' + t.replace('"', '""') + '"' for t in g) + ")" for g in groups)


def match_expression(query: str) -> str | None:
    """A MATCH expression for FTS5, or None when the query has no searchable word."""
    terms = query_terms(query)
    return any_of(terms) if terms else None


def any_of(terms: list[str]) -> str:
    """A MATCH for the memories with any of `terms`, each quoted."""
    return " OR ".join('"' + t.replace('"', '""') + '"' for t in terms)


def document(title: str, parts: Iterable[str], extra: Iterable[str]) -> tuple[str, str, str]:
    """The (title, body, extra) columns of `memories_fts` for one memory."""
    body = "\n".join(p for p in parts if p)
    extras = [e for e in extra if e]
    extras.append(split_identifiers(title + "\n" + body))
    return title, body, " ".join(x for x in extras if x)


SNIPPET_SCAN_CHARS = 4_000


def _close(term: str, word: str) -> bool:
    """Whether `word` is `term` up to an English ending (rotation/rotate, token/tokens), as the
    porter tokenizer would have matched it; terms under four letters match exactly."""
    if word == term:
        return True
    if len(term) < 4 or len(word) < 4:
        return False
    common = 0
    for a, b in zip(term, word, strict=False):
        if a != b:
            break
        common += 1
    return common >= max(4, min(len(term), len(word)) - 3)


def snippet(text: str, terms: list[str], size: int = 16, memo: dict[str, int] | None = None) -> str | None:
    """The `size`-word window of `text` with the most distinct query terms, matched words in
    [brackets], elided ends marked with …; what FTS5's snippet() gives, without asking SQLite to
    run the query again for every row. None when no term is in the first SNIPPET_SCAN_CHARS
    (FTS5 is asked then). `memo` carries word matches over from the page's other snippets."""
    words = list(_WORD.finditer(text[:SNIPPET_SCAN_CHARS]))
    if not words:
        return None
    exact = {t: i for i, t in reversed(list(enumerate(terms)))}
    heads = {t[:4] for t in terms if len(t) >= 4}
    if memo is None:
        memo = {}

    def match(word: str) -> int:
        found = memo.get(word)
        if found is None:
            parts = [word.lower()]
            if not word.islower() or "_" in word:
                parts += identifier_parts(word)
            found = -1
            for p in parts:
                if p in exact:
                    found = exact[p]
                    break
                if p[:4] in heads:
                    found = next((i for i, t in enumerate(terms) if _close(t, p)), -1)
                    if found >= 0:
                        break
            memo[word] = found
        return found

    # per word: the index of the term it matches, or -1
    hit = [memo[g] if g in memo else match(g) for g in (w.group() for w in words)]
    if not any(h >= 0 for h in hit):
        return None
    best, best_score = 0, -1
    counts = [0] * len(terms)
    distinct = 0
    for i, h in enumerate(hit):  # slide a window of `size` words, counting distinct terms in it
        if h >= 0:
            counts[h] += 1
            distinct += counts[h] == 1
        out_i = i - size
        if out_i >= 0 and hit[out_i] >= 0:
            counts[hit[out_i]] -= 1
            distinct -= counts[hit[out_i]] == 0
        start = max(0, i - size + 1)
        if (i >= size - 1 or i == len(hit) - 1) and distinct > best_score:
            best, best_score = start, distinct
    end = min(len(words), best + size)
    out, pos = [], (words[best].start() if best > 0 else 0)
    for i in range(best, end):
        w = words[i]
        out.append(text[pos:w.start()])
        out.append(f"[{w.group()}]" if hit[i] >= 0 else w.group())
        pos = w.end()
    tail = text[pos:words[end].start()] if end < len(words) else text[pos:]
    body = "".join(out) + (tail if end == len(words) else "")
    return ("…" if best > 0 else "") + body.strip() + ("…" if end < len(words) else "")
