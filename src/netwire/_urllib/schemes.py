"""The other schemes of the urllib face: ``file:``, ``data:``, ``ftp:`` (with its session cache) and unknown.

Also urllib's legacy module-level helpers of that era (``ftpcache``, ``localhost()``,
``thishost()``, ``ftperrors()``, ``noheaders()``). ``ftplib`` and ``email.utils`` are imported
on first use, so a program that only opens http URLs never loads them.
"""

from __future__ import annotations

import base64
import io
import mimetypes
import os
import socket
import time
from collections.abc import Iterable
from typing import Any

from ..error import URLError
from ..parse import unquote, unquote_to_bytes
from ..response import addclosehook, addinfourl, make_message
from .base import (
    BaseHandler,
    Request,
    _splitattr,
    _splitpasswd,
    _splitport,
    _splituser,
    _splitvalue,
    url2pathname,
)


def _message_from(fields: Iterable[tuple[str, str]]) -> Any:
    return make_message(fields)


def _safe_gethostbyname(host: str) -> str | None:
    try:
        return socket.gethostbyname(host)
    except OSError:
        return None


# -- file: -----------------------------------------------------------------------------------------


class FileHandler(BaseHandler):
    """Opens ``file:`` URLs of this host."""

    names: tuple[str, ...] | None = None

    def file_open(self, req: Request) -> Any:
        url = req.selector
        if url[:2] == "//" and url[2:3] != "/" and (req.host and req.host != "localhost"):
            if req.host not in self.get_names():
                raise URLError("file:// scheme is supported only on localhost")
            return None
        return self.open_local_file(req)

    def get_names(self) -> tuple[str, ...]:
        """The addresses of this host (``localhost`` and the host name)."""
        if FileHandler.names is None:
            try:
                FileHandler.names = tuple(
                    socket.gethostbyname_ex("localhost")[2] + socket.gethostbyname_ex(socket.gethostname())[2]
                )
            except OSError:
                FileHandler.names = (socket.gethostbyname("localhost"),)
        return FileHandler.names

    def open_local_file(self, req: Request) -> Any:
        import email.utils

        host = req.host
        filename = req.selector
        localfile = url2pathname(filename)
        try:
            stats = os.stat(localfile)
            size = stats.st_size
            modified = email.utils.formatdate(stats.st_mtime, usegmt=True)
            mtype = mimetypes.guess_type(filename)[0]
            headers = _message_from(
                [("Content-type", mtype or "text/plain"), ("Content-length", str(size)), ("Last-modified", modified)]
            )
            port: str | None = None
            if host:
                host, port = _splitport(host)
            if not host or (not port and _safe_gethostbyname(host) in self.get_names()):
                origurl = f"file://{host}{filename}" if host else f"file://{filename}"
                return addinfourl(open(localfile, "rb"), headers, origurl)  # the response owns the file
        except OSError as exp:
            raise URLError(exp) from exp
        raise URLError("file not on local host")


# -- data: -----------------------------------------------------------------------------------------


class DataHandler(BaseHandler):
    """Opens ``data:`` URLs (RFC 2397)."""

    def data_open(self, req: Request) -> Any:
        url = req.full_url
        _scheme, _, rest = url.partition(":")
        mediatype, comma, payload = rest.partition(",")
        if not comma:
            raise ValueError("not enough values to unpack (expected 2, got 1)")
        # Even base64 data may be percent-encoded: unquote first.
        data = unquote_to_bytes(payload)
        if mediatype.endswith(";base64"):
            data = base64.decodebytes(data)
            mediatype = mediatype[:-7]
        if not mediatype:
            mediatype = "text/plain;charset=US-ASCII"
        headers = _message_from([("Content-type", mediatype), ("Content-length", str(len(data)))])
        return addinfourl(io.BytesIO(data), headers, url)


# -- ftp: ------------------------------------------------------------------------------------------


class ftpwrapper:
    """One FTP session (login, current directory) that hands out one transfer at a time."""

    def __init__(
        self,
        user: str,
        passwd: str,
        host: str,
        port: int,
        dirs: list[str],
        timeout: Any = None,
        persistent: bool = True,
    ) -> None:
        self.user = user
        self.passwd = passwd
        self.host = host
        self.port = port
        self.dirs = dirs
        self.timeout = timeout
        self.refcount = 0
        self.keepalive = persistent
        self.busy = False
        self.ftp: Any = None
        try:
            self.init()
        except BaseException:
            self.close()
            raise

    def init(self) -> None:
        import ftplib

        self.busy = False
        self.ftp = ftplib.FTP()
        self.ftp.connect(self.host, self.port, self.timeout)
        self.ftp.login(self.user, self.passwd)
        self.ftp.cwd("/".join(self.dirs))

    def retrfile(self, file: str, type: str) -> tuple[Any, int | None]:
        """(a readable file of ``file``, its size or None); a directory gives its listing."""
        import ftplib

        self.endtransfer()
        isdir = type in ("d", "D")
        cmd = "TYPE A" if isdir else "TYPE " + type
        try:
            self.ftp.voidcmd(cmd)
        except ftplib.all_errors:
            self.init()  # the server dropped an idle session: log in again
            self.ftp.voidcmd(cmd)
        conn = None
        retrlen: int | None = None
        if file and not isdir:
            try:
                conn, retrlen = self.ftp.ntransfercmd("RETR " + file)
            except ftplib.error_perm as reason:
                if str(reason)[:3] != "550":
                    raise URLError(f"ftp error: {reason}") from reason
        if conn is None:
            # Not a file: list it as a directory (which must exist).
            self.ftp.voidcmd("TYPE A")
            if file:
                pwd = self.ftp.pwd()
                try:
                    try:
                        self.ftp.cwd(file)
                    except ftplib.error_perm as reason:
                        raise URLError(f"ftp error: {reason!r}") from reason
                finally:
                    self.ftp.cwd(pwd)
                cmd = "LIST " + file
            else:
                cmd = "LIST"
            conn, retrlen = self.ftp.ntransfercmd(cmd)
        self.busy = True
        fp = addclosehook(conn.makefile("rb"), self.file_close)
        self.refcount += 1
        conn.close()
        return fp, retrlen

    def endtransfer(self) -> None:
        if not self.busy:
            return
        self.busy = False
        try:
            self.ftp.voidresp()
        except (OSError, EOFError, _ftp_errors()):
            pass

    def close(self) -> None:
        self.keepalive = False
        if self.refcount <= 0:
            self.real_close()

    def file_close(self) -> None:
        self.endtransfer()
        self.refcount -= 1
        if self.refcount <= 0 and not self.keepalive:
            self.real_close()

    def real_close(self) -> None:
        self.endtransfer()
        if self.ftp is not None:
            try:
                self.ftp.close()
            except (OSError, EOFError):
                pass


def _ftp_errors() -> type[Exception]:
    import ftplib

    return ftplib.Error


class FTPHandler(BaseHandler):
    """Opens ``ftp:`` URLs with ``ftplib`` (``ftp://user:pw@host/dir/file;type=i``)."""

    def ftp_open(self, req: Request) -> Any:
        import ftplib

        host = req.host
        if not host:
            raise URLError("ftp error: no host given")
        host, port_text = _splitport(host)
        port = ftplib.FTP_PORT if port_text is None else int(port_text)
        user_info, host = _splituser(host)
        passwd: str | None = None
        if user_info:
            user_info, passwd = _splitpasswd(user_info)
        host = unquote(host)
        # req.host was percent-decoded once already (as urllib does); decoding the userinfo
        # again would turn a literal "%42" in a user name into "B".
        user = user_info or ""
        passwd = passwd or ""
        try:
            host = socket.gethostbyname(host)
        except OSError as msg:
            raise URLError(msg) from msg
        path, attrs = _splitattr(req.selector)
        dirs = [unquote(d) for d in path.split("/")]
        dirs, file = dirs[:-1], dirs[-1]
        if dirs and not dirs[0]:
            dirs = dirs[1:]
        try:
            fw = self.connect_ftp(user, passwd, host, port, dirs, req.timeout)
            kind = "I" if file else "D"
            for attr in attrs:
                name, value = _splitvalue(attr)
                if name.lower() == "type" and value in ("a", "A", "i", "I", "d", "D"):
                    kind = value.upper()
            fp, retrlen = fw.retrfile(file, kind)
            fields: list[tuple[str, str]] = []
            mtype = mimetypes.guess_type(req.full_url)[0]
            if mtype:
                fields.append(("Content-type", mtype))
            if retrlen is not None and retrlen >= 0:
                fields.append(("Content-length", str(retrlen)))
            return addinfourl(fp, _message_from(fields), req.full_url)
        except ftplib.all_errors as exp:
            if isinstance(exp, URLError):
                raise
            raise URLError(exp) from exp

    def connect_ftp(self, user: str, passwd: str, host: str, port: int, dirs: list[str], timeout: Any) -> ftpwrapper:
        return ftpwrapper(user, passwd, host, port, dirs, timeout, persistent=False)


class CacheFTPHandler(FTPHandler):
    """An FTPHandler that keeps sessions open for reuse (``setTimeout`` seconds, ``setMaxConns`` of them)."""

    def __init__(self) -> None:
        self.cache: dict[Any, ftpwrapper] = {}
        self.timeout: dict[Any, float] = {}
        self.soonest = 0.0
        self.delay = 60.0
        self.max_conns = 16

    def setTimeout(self, t: float) -> None:  # urllib's name
        self.delay = t

    def setMaxConns(self, m: int) -> None:  # urllib's name
        self.max_conns = m

    def connect_ftp(self, user: str, passwd: str, host: str, port: int, dirs: list[str], timeout: Any) -> ftpwrapper:
        key = (user, host, port, "/".join(dirs), timeout)
        if key not in self.cache:
            self.cache[key] = ftpwrapper(user, passwd, host, port, dirs, timeout)
        self.timeout[key] = time.time() + self.delay
        self.check_cache()
        return self.cache[key]

    def check_cache(self) -> None:
        now = time.time()
        if self.soonest <= now:
            for k, expiry in list(self.timeout.items()):
                if expiry < now:
                    self.cache.pop(k).close()
                    del self.timeout[k]
        self.soonest = min(self.timeout.values(), default=0.0)
        if len(self.cache) >= self.max_conns:
            for k, expiry in list(self.timeout.items()):
                if expiry == self.soonest:
                    self.cache.pop(k).close()
                    del self.timeout[k]
                    break
            self.soonest = min(self.timeout.values(), default=0.0)

    def clear_cache(self) -> None:
        for conn in self.cache.values():
            conn.close()
        self.cache.clear()
        self.timeout.clear()


# -- unknown schemes -------------------------------------------------------------------------------


class UnknownHandler(BaseHandler):
    """The last resort: a URL type no handler opens."""

    def unknown_open(self, req: Request) -> Any:
        raise URLError(f"unknown url type: {req.type}")


# -- urllib's legacy module-level helpers ----------------------------------------------------------

# urllib's FTP cache of the URLopener era: kept (empty) for code that reads or clears it.
ftpcache: dict[Any, Any] = {}
MAXFTPCACHE = 10

_localhost: str | None = None
_thishost: tuple[str, ...] | None = None
_noheaders: Any = None


def localhost() -> str:
    """The IP address of ``localhost`` (looked up once)."""
    global _localhost
    if _localhost is None:
        _localhost = socket.gethostbyname("localhost")
    return _localhost


def thishost() -> tuple[str, ...]:
    """The IP addresses of this host (looked up once)."""
    global _thishost
    if _thishost is None:
        try:
            _thishost = tuple(socket.gethostbyname_ex(socket.gethostname())[2])
        except socket.gaierror:
            _thishost = tuple(socket.gethostbyname_ex("localhost")[2])
    return _thishost


def ftperrors() -> tuple[type[BaseException], ...]:
    """The exceptions ``ftplib`` raises (``ftplib.all_errors``)."""
    import ftplib

    return ftplib.all_errors


def noheaders() -> Any:
    """An empty header message (an ``email.message.Message``), made once."""
    global _noheaders
    if _noheaders is None:
        _noheaders = _message_from(())
    return _noheaders
