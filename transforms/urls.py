"""URL normalisation and the registered domain of a source."""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from publicsuffixlist import PublicSuffixList

TRACKING_PARAMS = re.compile(
    r"^(?:utm_\w+|fbclid|gclid|dclid|gbraid|wbraid|msclkid|mc_cid|mc_eid|yclid|igshid|_ga|_gl|ocid|cmpid"
    r"|ncid|sr_share|share|smid|ref|ref_src|ref_url|icid|cid|at_medium|at_campaign|guccounter|guce_\w+)$",
    re.I,
)
DEFAULT_PORTS = {"http": 80, "https": 443}
AMP_PATH = re.compile(r"(?:/amp/?$|/amp(?=/)|\.amp(?=\.html?$|$))", re.I)
MOBILE_HOST = re.compile(r"^(?:m|mobile|amp)\.", re.I)


@lru_cache(maxsize=1)
def _psl() -> PublicSuffixList:
    # The package ships its own copy of the Public Suffix List: no download at run time.
    return PublicSuffixList()


def normalise_url(url: str | None) -> str | None:
    """Return the URL with scheme/host lower-cased, default port, fragment and tracking parameters gone.

    AMP and mobile variants (m.example.com, /amp/, ?amp=1) map to the desktop URL. None for
    anything that is not an absolute http(s) URL.
    """
    if not url:
        return None
    url = url.strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    host = MOBILE_HOST.sub("", parts.hostname.lower().rstrip("."))
    netloc = host if port in (None, DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not TRACKING_PARAMS.match(k)
        and not (k.lower() in {"amp", "outputtype"} and v.lower() in {"1", "amp", "true", ""})
    ]
    path = AMP_PATH.sub("", parts.path) or "/"
    return urlunsplit((scheme, netloc, path, urlencode(query, doseq=True), ""))


def registered_domain(url_or_host: str | None) -> str | None:
    """Return the registered domain (public-suffix aware): cdn.img.sputniknews.com → sputniknews.com."""
    if not url_or_host:
        return None
    host = urlsplit(url_or_host).hostname if "//" in url_or_host else url_or_host
    if not host:
        return None
    host = host.lower().rstrip(".")
    if re.fullmatch(r"[\d.]+|\[?[0-9a-f:]+\]?", host):
        return host
    return _psl().privatesuffix(host) or host
