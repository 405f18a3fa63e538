//! Which output the challenger disputes.

use alloy_primitives::B256;
use challenger::outputs::{Output, Verdict, first_to_dispute};

fn outputs(n: u64) -> Vec<Output> {
    (0..n)
        .map(|i| Output {
            index: i,
            root: B256::with_last_byte(i as u8),
            cursor_hash: B256::with_last_byte(0x80 | i as u8),
            l2_block: 10 * (i + 1),
            l1_block: 100 + i,
            timestamp: 1_000 + i,
        })
        .collect()
}

#[test]
fn the_first_wrong_output_after_agreed_ones() {
    let o = outputs(5);
    let v = |wrong: &'static [u64], known: u64| {
        move |x: &Output| {
            if x.index >= known {
                Verdict::Unknown
            } else if wrong.contains(&x.index) {
                Verdict::Disagree
            } else {
                Verdict::Agree
            }
        }
    };
    let none = |_| false;
    assert_eq!(first_to_dispute(&o, v(&[], 5), none), None);
    assert_eq!(
        first_to_dispute(&o, v(&[2, 3], 5), none).map(|x| x.index),
        Some(2)
    );
    // the walk stops where the honest chain has not derived yet
    assert_eq!(first_to_dispute(&o, v(&[3], 3), none), None);
    // a game already open on output 1 deletes the later ones if it wins
    assert_eq!(first_to_dispute(&o, v(&[1, 3], 5), |i| i == 1), None);
    assert_eq!(first_to_dispute(&o, v(&[3], 5), |i| i == 1), None);
    assert_eq!(
        first_to_dispute(&o, v(&[0], 5), |i| i == 1).map(|x| x.index),
        Some(0)
    );
}

#[test]
fn the_root_claim_is_the_block_end_leaf() {
    let o = &outputs(1)[0];
    // keccak(7 ‖ O ‖ keccak C ‖ 0^96), as DisputeGameFactory.create computes it
    let mut pre = vec![7u8];
    pre.extend_from_slice(o.root.as_slice());
    pre.extend_from_slice(o.cursor_hash.as_slice());
    pre.extend_from_slice(&[0u8; 96]);
    assert_eq!(o.claim(), alloy_primitives::keccak256(pre));
}
