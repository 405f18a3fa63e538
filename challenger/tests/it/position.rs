//! `Position` against `LibPosition.sol`'s definitions.

use challenger::position::Position;
use proptest::prelude::*;

#[test]
fn root_and_children() {
    let root = Position::ROOT;
    assert_eq!(root.depth(), 0);
    assert_eq!(root.index_at_depth(), 0);
    assert_eq!(root.attack(), Position::new(1, 0));
    // LibPosition.move(root, false) = (1 | 1) << 1 = 2: the root has no defence position
    // of its own, which is why the contract refuses to defend it
    assert_eq!(root.defend(), Position::new(1, 0));
    assert_eq!(root.trace_index(3), Some(7));
    assert_eq!(Position::new(1, 0).unwrap().trace_index(3), Some(3));
    assert_eq!(Position::new(3, 5).unwrap().trace_index(3), Some(5));
    assert_eq!(Position::new(4, 0).unwrap().trace_index(3), None);
    assert_eq!(Position::new(2, 4), None);
    assert_eq!(Position::from_raw(0), None);
    assert_eq!(Position::new(127, 0).unwrap().attack(), None);
}

proptest! {
    #[test]
    fn algebra(depth in 0u8..60, index in any::<u64>(), extra in 0u8..60) {
        let index = u128::from(index) & ((1u128 << depth) - 1);
        let p = Position::new(depth, index).unwrap();
        prop_assert_eq!(p.raw(), (1u128 << depth) + index);
        prop_assert_eq!(p.depth(), depth);
        prop_assert_eq!(p.index_at_depth(), index);
        let a = p.attack().unwrap();
        let d = p.defend().unwrap();
        prop_assert_eq!(a.depth(), depth + 1);
        prop_assert_eq!(a.parent(), Some(p));
        // a defence is a child of the right sibling (of p itself when p is a right child)
        prop_assert_eq!(d.parent().unwrap().raw(), p.raw() | 1);
        prop_assert!(a.is_left() && d.is_left());
        let max = depth + extra;
        let t = p.trace_index(max).unwrap();
        // the rightmost leaf of p's subtree, and the attack commits to the middle of it
        prop_assert_eq!(t, ((index + 1) << extra) - 1);
        if extra > 0 {
            let ta = a.trace_index(max).unwrap();
            prop_assert!(ta < t);
            prop_assert_eq!(ta, t - (1u128 << (extra - 1)));
            // the defence of a left child commits past it, inside the parent's span
            if p.is_left() && depth > 0 {
                let td = d.trace_index(max).unwrap();
                prop_assert!(td > t);
                prop_assert!(td <= p.parent().unwrap().trace_index(max).unwrap());
            }
        }
        // the trace ancestor commits to the same leaf and is a left child
        let anc = p.trace_ancestor();
        prop_assert_eq!(anc.trace_index(max), Some(t));
        prop_assert!(anc.is_left());
    }
}
