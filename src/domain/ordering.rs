//! Where an item lands in an ordered list. Positions count from 0 and stay contiguous: without a
//! position an item goes last; with one, the items at and after it move down one. A position past
//! the end means the end.

/// The position of a new item in a list of `count` items.
pub fn insert_at(requested: Option<i32>, count: i32) -> i32 {
    requested.map_or(count, |p| p.clamp(0, count))
}

/// The position of an item moved within a list of `count` items (itself included).
pub fn move_to(requested: i32, count: i32) -> i32 {
    requested.clamp(0, (count - 1).max(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_items() {
        assert_eq!(insert_at(None, 0), 0);
        assert_eq!(insert_at(None, 3), 3);
        assert_eq!(insert_at(Some(0), 3), 0);
        assert_eq!(insert_at(Some(2), 3), 2);
        assert_eq!(insert_at(Some(3), 3), 3);
        assert_eq!(insert_at(Some(99), 3), 3);
    }

    #[test]
    fn moved_items() {
        assert_eq!(move_to(0, 3), 0);
        assert_eq!(move_to(2, 3), 2);
        assert_eq!(move_to(7, 3), 2);
        assert_eq!(move_to(5, 1), 0);
    }
}
