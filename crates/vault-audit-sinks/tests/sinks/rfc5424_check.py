"""Parses RFC 5424 messages with PyPI's syslog-rfc5424-parser (a parser no one here
wrote) and prints what it read, for tests/sinks/rfc5424.rs.

Input (stdin): a JSON array of messages, unframed. Output (stdout): a JSON array with,
for each, the parser's fields, or {"error": ...} for a message it refused.
"""
import json
import sys

from syslog_rfc5424_parser import SyslogMessage
from syslog_rfc5424_parser.message import ParseError

out = []
for message in json.load(sys.stdin):
    try:
        parsed = SyslogMessage.parse(message)
    except ParseError as error:
        out.append({"error": str(error)})
        continue
    out.append({
        "facility": parsed.facility.name,
        "severity": parsed.severity.name,
        "version": parsed.version,
        "timestamp": parsed.timestamp,
        "hostname": parsed.hostname,
        "appname": parsed.appname,
        "procid": parsed.procid,
        "msgid": parsed.msgid,
        # The parser keeps values as they are written, escapes and all.
        "sd": parsed.sd,
        "msg": parsed.msg,
    })
json.dump(out, sys.stdout)
