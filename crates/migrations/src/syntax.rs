//! Where PostgreSQL's parser stopped.
//!
//! `pg_query::Error::Parse` keeps only the message; libpg_query's error
//! also carries `cursorpos`, the 1-based character position PostgreSQL
//! points at (`ERROR: syntax error at or near "TABL" … LINE 3: ^`). The
//! C library is linked into every program using `pg_query`, so this asks it
//! again, for a file that has already failed to parse, through the same
//! entry point `pg_query::parse` uses, and keeps the position.

use std::ffi::{c_char, c_int, CStr, CString};

#[repr(C)]
struct PgQueryError {
    message: *mut c_char,
    funcname: *mut c_char,
    filename: *mut c_char,
    lineno: c_int,
    cursorpos: c_int,
    context: *mut c_char,
}

#[repr(C)]
struct PgQueryProtobuf {
    len: usize,
    data: *mut c_char,
}

#[repr(C)]
struct PgQueryProtobufParseResult {
    parse_tree: PgQueryProtobuf,
    stderr_buffer: *mut c_char,
    error: *mut PgQueryError,
}

// Declared in libpg_query's pg_query.h (vendored by the pg_query crate,
// which links the static library).
extern "C" {
    fn pg_query_parse_protobuf(input: *const c_char) -> PgQueryProtobufParseResult;
    fn pg_query_free_protobuf_parse_result(result: PgQueryProtobufParseResult);
}

/// The parser's message and 1-based character position (0: none) for
/// `sql`, or `None` when it parses (or holds a NUL byte).
pub fn error_at(sql: &str) -> Option<(String, usize)> {
    let input = CString::new(sql).ok()?;
    // SAFETY: `input` is a valid NUL-terminated string that outlives the
    // call; the result is read only before it is freed, exactly once, by
    // the library's own function.
    unsafe {
        let result = pg_query_parse_protobuf(input.as_ptr());
        let found = if result.error.is_null() {
            None
        } else {
            let err = &*result.error;
            let message = if err.message.is_null() {
                "syntax error".to_string()
            } else {
                CStr::from_ptr(err.message).to_string_lossy().into_owned()
            };
            Some((message, usize::try_from(err.cursorpos).unwrap_or(0)))
        };
        pg_query_free_protobuf_parse_result(result);
        found
    }
}
