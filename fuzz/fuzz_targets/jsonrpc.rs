//! The sequencer's JSON-RPC surface, fed raw request text.
//!
//! One in-memory node per process (see `blink_fuzz::rpc`); every input is handed to
//! jsonrpsee's `raw_json_request` as if it had arrived over HTTP/WebSocket. Must never
//! panic (in the RPC handlers or the node's threads), hang, or answer with an internal
//! error.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Transports deliver text; jsonrpsee rejects non-UTF-8 before decoding.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = blink_fuzz::call(text);
});
