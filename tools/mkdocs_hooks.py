"""MkDocs hook: keep only the nav entries whose page exists.

The user-guide pages are written on several branches; mkdocs.yml lists them
all and this hook removes the entries of pages not present in docs/, so that
``mkdocs build --strict`` passes on any tree (a missing nav target would be a
warning, hence an error in strict mode).  A link to one of those listed but
absent pages is rendered as plain text (and logged); a link to any other
missing page still fails the strict build.
"""
import logging
import os
import re

log = logging.getLogger("mkdocs.hooks.expmix")
_ABSENT = set()


def _exists(target, docs_dir):
    return target.startswith(("http://", "https://")) or os.path.exists(os.path.join(docs_dir, target))


def _filter(items, docs_dir):
    out = []
    for item in items:
        if isinstance(item, str):
            if _exists(item, docs_dir):
                out.append(item)
            else:
                _ABSENT.add(item)
            continue
        if isinstance(item, dict):
            kept = {}
            for title, target in item.items():
                if isinstance(target, list):
                    sub = _filter(target, docs_dir)
                    if sub:
                        kept[title] = sub
                elif isinstance(target, str):
                    if _exists(target, docs_dir):
                        kept[title] = target
                    else:
                        _ABSENT.add(target)
            if kept:
                out.append(kept)
    return out


def on_config(config, **kwargs):
    _ABSENT.clear()
    if config.get("nav"):
        config["nav"] = _filter(config["nav"], config["docs_dir"])
    if _ABSENT:
        log.info("pages listed in the nav but not present (dropped): %s", ", ".join(sorted(_ABSENT)))
    return config


_LINK = re.compile(r"\[([^\]]+)\]\(([^)#\s]+)(#[^)]*)?\)")


def on_page_markdown(markdown, page, **kwargs):
    def repl(m):
        if m.group(2) in _ABSENT:
            return m.group(1)
        return m.group(0)
    return _LINK.sub(repl, markdown)
