//! Byte-level helpers both line framings share: finding a line end fast, and a UTF-8 BOM that
//! may arrive split across reads.

/// The UTF-8 byte order mark.
pub(crate) const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Position of the first byte `is_end` accepts. Scans fixed blocks with a branch-free test
/// first, which the compiler vectorises (a plain `position` loop is not, because it exits
/// early); lines of LLM streams are a hundred bytes or more.
#[inline(always)]
pub(crate) fn find(bytes: &[u8], is_end: impl Fn(u8) -> bool) -> Option<usize> {
    const BLOCK: usize = 32;
    let mut blocks = bytes.chunks_exact(BLOCK);
    let mut base = 0;
    for block in &mut blocks {
        if block.iter().fold(false, |hit, &b| hit | is_end(b)) {
            return block.iter().position(|&b| is_end(b)).map(|i| base + i);
        }
        base += BLOCK;
    }
    blocks.remainder().iter().position(|&b| is_end(b)).map(|i| base + i)
}

/// Strips a leading BOM that may arrive split across reads, holding its first bytes in `held`
/// (which then begins the first line if they turn out not to be a BOM). Returns the bytes left
/// to frame, or `None` when all of `bytes` was held; sets `checked` once decided.
pub(crate) fn strip_bom<'b>(
    held: &mut Vec<u8>,
    checked: &mut bool,
    bytes: &'b [u8],
) -> Option<&'b [u8]> {
    let have = held.len();
    let take = (BOM.len() - have).min(bytes.len());
    if BOM[have..have + take] != bytes[..take] {
        *checked = true;
        return Some(bytes);
    }
    if have + take < BOM.len() {
        held.extend_from_slice(&bytes[..take]);
        return None;
    }
    *checked = true;
    held.clear();
    Some(&bytes[take..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bom_split_over_reads_is_stripped_and_a_false_start_kept() {
        let (mut held, mut checked) = (Vec::new(), false);
        assert_eq!(strip_bom(&mut held, &mut checked, b"\xEF"), None);
        assert_eq!(strip_bom(&mut held, &mut checked, b"\xBB\xBFdata"), Some(&b"data"[..]));
        assert!(checked && held.is_empty());
        let (mut held, mut checked) = (Vec::new(), false);
        assert_eq!(strip_bom(&mut held, &mut checked, b"\xEF"), None);
        assert_eq!(strip_bom(&mut held, &mut checked, b"x"), Some(&b"x"[..]));
        assert_eq!(held, b"\xEF", "the held byte begins the line");
    }

    #[test]
    fn find_works_at_every_block_edge() {
        for len in [0, 1, 31, 32, 33, 64, 100] {
            let mut bytes = vec![b'a'; len];
            assert_eq!(find(&bytes, |b| b == b'\n'), None);
            for at in 0..len {
                bytes[at] = b'\n';
                assert_eq!(find(&bytes, |b| b == b'\n'), Some(at));
                bytes[at] = b'a';
            }
        }
    }
}
