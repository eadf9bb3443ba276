//! The sinks' tests, in one binary: the port's conformance suite run on each adapter, and
//! each adapter's own behaviour, against real files and real listeners on 127.0.0.1.

mod conformance;
mod file;
mod rfc5424;
mod support;
mod syslog;
