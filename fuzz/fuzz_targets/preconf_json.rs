//! Pre-confirmations as wallets receive them: JSON → `Preconfirmation` → `verify`.
//!
//! Must never panic. A decoded pre-confirmation must survive a JSON round trip, and
//! verification must be a pure function of its inputs.
#![no_main]

use alloy_primitives::Address;
use blink_protocol::{Preconfirmation, chain::DEV_CHAIN_ID, preconf::PreconfDomain};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn sequencer() -> Address {
    static A: OnceLock<Address> = OnceLock::new();
    *A.get_or_init(blink_fuzz::sequencer_address)
}

fn dom(chain_id: u64) -> PreconfDomain {
    PreconfDomain {
        chain_id,
        verifying_contract: Address::ZERO,
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(p) = serde_json::from_slice::<Preconfirmation>(data) else {
        return;
    };
    let first = p.verify(dom(DEV_CHAIN_ID), sequencer());
    if first.is_ok() {
        // The signed EIP-712 leaf holds `uint32 index`; a verified promise must not
        // claim an index the signature does not cover.
        assert!(
            p.index <= u64::from(u32::MAX),
            "verified a preconfirmation whose index {} is not what was signed (uint32)",
            p.index
        );
    }
    assert_eq!(
        first,
        p.verify(dom(DEV_CHAIN_ID), sequencer()),
        "verify is not deterministic"
    );
    for (chain_id, who) in [(0, Address::ZERO), (u64::MAX, Address::repeat_byte(0xff))] {
        let _ = p.verify(dom(chain_id), who);
    }
    let _ = p.leaf();
    let text = serde_json::to_string(&p).expect("serialize a decoded preconfirmation");
    let back: Preconfirmation = serde_json::from_str(&text).expect("re-decode own output");
    assert_eq!(
        p, back,
        "JSON round trip changed the preconfirmation: {text}"
    );
});
