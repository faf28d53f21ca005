"""What every survey service shares: a file cache, retries with back-off, offline detection.

VizieR (``data_prep.surveys.vizier``), SkyView (``data_prep.surveys.skyview``) and the UKIDSS WSA
(``data_prep.surveys.ukidss``) all go through :class:`SurveyService`:

- each answer is stored under ``<cache_dir>/<service>/...`` with an atomic write
  (``data_prep.base.files``), and a stored answer is reused, so an interrupted download resumes
  where it stopped and a rerun makes no request at all;
- a timeout, a dropped connection or an HTTP 5xx answer is retried with exponential back-off;
- a machine with no network (name resolution fails, connection refused, network unreachable)
  is recognised on the first try, so ``make tfrecords SOURCE=sdss`` offline stops in seconds;
- the final failure is one :class:`~data_prep.base.errors.InputError` line that names the service
  and suggests ``--source sim`` (``SOURCE=sim`` with make).

FITS files read back from the cache are checked (:func:`read_fits_image`): a truncated or
unreadable file is reported as :class:`CorruptFileError`; an image of NaN or zeros (outside a
survey's footprint) as :class:`NoCoverageError`, which a caller may record as a skip reason.
"""
import dataclasses
import errno
import io
import logging
import re
import socket
import time
import urllib.error
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import numpy as np
import requests
from astropy.io import fits, votable

from data_prep.base.errors import CorruptFileError, InputError
from data_prep.base.fits_reader import read_fits_image
from data_prep.base.files import write_bytes

log = logging.getLogger(__name__)

OFFLINE_HINT = "check the network, or use --source sim (SOURCE=sim with make)"
"""The end of every unreachable-service line: the offline way, in the words of the command line
and of the Makefile."""


class CachedImage(NamedTuple):
    """A FITS image in a survey's cache: its path, float32 image and header."""

    path: Path
    data: np.ndarray
    header: fits.Header


class ServiceAnswerError(Exception):
    """A service answered, but not with what was asked for (an HTML error page, no file link).

    Adapters raise it inside a request function; :meth:`SurveyService.call` turns it into an
    :class:`~data_prep.base.errors.InputError` naming the service, without retrying.
    """


@dataclasses.dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a service is asked.

    Parameters
    ----------
    attempts : int
        Tries in all (first try included).
    first_delay_s : float
        Wait before the second try, in seconds; each later wait is ``factor`` times longer.
    factor : float
        Growth of the wait between tries (exponential back-off).
    timeout_s : float
        Time limit of one HTTP request, in seconds (handed to astroquery).
    sleep : callable
        Waits a number of seconds (``time.sleep``; tests pass a recorder).
    """

    attempts: int = 4
    first_delay_s: float = 2.0
    factor: float = 2.0
    timeout_s: float = 120.0
    sleep: Callable[[float], None] = time.sleep

    def delays(self):
        """The waits between tries, in seconds (``attempts - 1`` of them)."""
        return [self.first_delay_s * self.factor ** k for k in range(self.attempts - 1)]


def _causes(error):
    """The exception and everything it was raised from or while handling."""
    seen = []
    while error is not None and error not in seen:
        seen.append(error)
        error = error.__cause__ or error.__context__
    return seen


_OFFLINE_WORDS = ("name or service not known", "temporary failure in name resolution",
                  "nodename nor servname", "failed to resolve", "nameresolutionerror",
                  "connection refused", "network is unreachable", "no route to host")


def is_offline(error):
    """True when ``error`` says this machine cannot reach the network at all.

    Name-resolution failures, refused connections and unreachable networks are not worth
    retrying: they mean no network (or a wrong server name), and the user should hear so at
    once.
    """
    for cause in _causes(error):
        if isinstance(cause, (socket.gaierror, ConnectionRefusedError)):
            return True
        if isinstance(cause, OSError) and cause.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH,
                                                          errno.ECONNREFUSED):
            return True
        text = str(cause).lower()
        if any(word in text for word in _OFFLINE_WORDS):
            return True
    return False


def is_transient(error):
    """True for failures worth another try: timeouts, dropped connections, HTTP 5xx."""
    if isinstance(error, requests.HTTPError):
        status = error.response.status_code if error.response is not None else None
        return status is not None and status >= 500
    if isinstance(error, urllib.error.HTTPError):
        return error.code >= 500
    return isinstance(error, (requests.Timeout, requests.ConnectionError, TimeoutError,
                              ConnectionError, urllib.error.URLError, socket.timeout))


def _answer_errors():
    """astroquery's exception types for a query the service answered but refused."""
    from astroquery.exceptions import InvalidQueryError, RemoteServiceError, TableParseError
    return (InvalidQueryError, RemoteServiceError, TableParseError)


_ANSWER_ERRORS = _answer_errors()


# The telling part of a urllib3 / requests connection failure message.
_CAUSE = re.compile(r"Failed to resolve '[^']+'|\[Errno -?\d+\] [^)'\"]+|Read timed out|"
                    r"Connection refused|Network is unreachable|No route to host")


def _reason(error, limit=200):
    """One short line describing ``error``: its type and the telling part of its message."""
    lines = str(error).strip().splitlines()
    text = lines[0] if lines else ""
    causes = list(dict.fromkeys(_CAUSE.findall(text)))
    if causes:
        text = "; ".join(causes)
    if len(text) > limit:
        text = text[:limit - 3] + "..."
    return f"{type(error).__name__}: {text}".strip().rstrip(":")


class SurveyService:
    """One survey service: its cache folder and its retry policy.

    Parameters
    ----------
    name : str
        Service name used in messages, e.g. ``"VizieR"``.
    cache_dir : path
        The cache root (``data/cache``); this service stores under ``cache_dir/<folder>``.
    folder : str
        Sub-folder of the cache root for this service, e.g. ``"vizier"``.
    retry : RetryPolicy, optional
    """

    def __init__(self, name, cache_dir, folder, retry=None):
        self.name = name
        self.root = Path(cache_dir) / folder
        self.retry = retry or RetryPolicy()

    def path(self, *parts):
        """A path in this service's cache folder."""
        return self.root.joinpath(*parts)

    def call(self, what, request):
        """Run ``request()`` (an astroquery call), retrying transient failures with back-off.

        Parameters
        ----------
        what : str
            What is asked, for messages, e.g. ``"J/ApJS/199/34/table1"``.
        request : callable
            Makes the request and returns its result.

        Raises
        ------
        InputError
            Offline (at once), after the last failed try, or when the answer is not usable.
        """
        from astroquery import cache_conf  # astroquery's own cache stays off: ours is the cache

        delays = self.retry.delays()
        for attempt in range(self.retry.attempts):
            try:
                with cache_conf.set_temp("cache_active", False):
                    return request()
            except ServiceAnswerError as error:
                raise InputError(f"{self.name} ({what}) gave an unusable answer: {error}") from None
            except _ANSWER_ERRORS as error:
                raise InputError(f"{self.name} ({what}) refused the query: "
                                 f"{_reason(error)}") from None
            except Exception as error:  # astroquery raises many types; classify, never swallow
                if is_offline(error):
                    raise InputError(
                        f"{self.name} ({what}) unreachable, no network: {_reason(error)}; "
                        f"{OFFLINE_HINT}") from None
                if isinstance(error, requests.HTTPError) and not is_transient(error):
                    raise InputError(f"{self.name} ({what}) refused the query: "
                                     f"{_reason(error)}") from None
                if not is_transient(error):
                    raise
                if attempt == self.retry.attempts - 1:
                    raise InputError(
                        f"{self.name} ({what}) unreachable after {self.retry.attempts} tries: "
                        f"{_reason(error)}; {OFFLINE_HINT}") from None
                log.warning("%s (%s) try %d failed (%s); retrying in %.3g s", self.name, what,
                            attempt + 1, _reason(error), delays[attempt])
                self.retry.sleep(delays[attempt])
        raise AssertionError("unreachable")

    def http_get(self, query, url, what):
        """Bytes of ``url`` fetched through an astroquery class's HTTP session (no retry here).

        Raises ``requests.HTTPError`` for 4xx/5xx so that :meth:`call` can classify it.
        """
        response = query._request("GET", url, timeout=self.retry.timeout_s, cache=False)
        response.raise_for_status()
        if not response.content:
            raise ServiceAnswerError(f"empty file from {url} ({what})")
        return response.content

    def cached_votable(self, path, download, what):
        """The first table of a VOTable from the cache, downloading it (atomically) when
        missing or unreadable.

        Parameters
        ----------
        path : path
            Where the file is cached.
        download : callable
            Returns the VOTable's bytes (called inside :meth:`call`, so it is retried; an
            answer that is not a VOTable with a table counts as a failed try).
        what : str
            Description for messages.
        """
        path = Path(path)
        if path.exists():
            try:
                return parse_votable(path.read_bytes(), str(path))
            except ServiceAnswerError as error:
                log.warning("%s; downloading it again", error)
                path.unlink()

        def checked_download():
            data = download()
            return data, parse_votable(data, f"{self.name} answer for {what}")

        data, table = self.call(what, checked_download)
        write_bytes(path, data)
        return table

    def cached_fits(self, path, download, what):
        """A FITS image from the cache, downloading it (atomically) when missing or corrupt.

        Parameters
        ----------
        path : path
            Where the file is cached.
        download : callable
            Returns the file's bytes (called inside :meth:`call`, so it is retried).
        what : str
            Description for messages.

        Returns
        -------
        CachedImage
            ``path``, holding a readable FITS image with a celestial WCS, and its image and
            header as read (once) to check it.

        Raises
        ------
        CorruptFileError
            Two downloads in a row were damaged.
        NoCoverageError
            The image has no data; the file stays cached, so asking again gives the same answer
            without a request.
        """
        path = Path(path)
        if path.exists():
            try:
                return CachedImage(path, *read_fits_image(path))
            except CorruptFileError as error:
                log.warning("%s; downloading it again", error)
                path.unlink()
        for attempt in range(2):  # a transfer cut short is fetched once more, then reported
            write_bytes(path, self.call(what, download))
            try:
                return CachedImage(path, *read_fits_image(path))
            except CorruptFileError as error:
                path.unlink()
                if attempt == 1:
                    raise CorruptFileError(f"{self.name} ({what}) sent a damaged file twice: "
                                           f"{error}") from None
                log.warning("%s; downloading it again", error)


def parse_votable(data, source="service answer"):
    """The first table of a VOTable (bytes) as an astropy Table.

    Raises
    ------
    ServiceAnswerError
        Not a VOTable, or a VOTable without a table (VizieR reports errors in an INFO).
    """
    if not data.lstrip().startswith(b"<?xml"):
        raise ServiceAnswerError(f"{source} is not a VOTable (starts {data[:60]!r})")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", votable.exceptions.VOWarning)
            tree = votable.parse(io.BytesIO(data), verify="ignore", invalid="mask")
            tables = list(tree.iter_tables())
            if not tables:
                infos = "; ".join(str(i.content or i.value) for i in tree.iter_info()
                                  if i.name in ("Error", "QUERY_STATUS", "Warning"))
                raise ServiceAnswerError(f"{source} holds no table ({infos or 'no message'})")
            return tables[0].to_table(use_names_over_ids=True)
    except ServiceAnswerError:
        raise
    except Exception as error:  # the VOTable parser raises many types for a damaged file
        raise ServiceAnswerError(f"{source} is not a readable VOTable ({error})") from None
