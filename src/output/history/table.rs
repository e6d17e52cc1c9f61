//! A plain aligned text table for `history`, `compare` and `report --trend`: columns padded to
//! their widest cell, counting East Asian wide characters as two columns.

/// Renders `rows` under `header`; `right[i]` right-aligns column `i` (numbers).
pub fn render(header: &[String], rows: &[Vec<String>], right: &[bool]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| width(h)).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(width(cell));
        }
    }
    let line = |cells: &[String]| {
        let padded: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, cell)| {
                let pad = " ".repeat(widths[i] - width(cell));
                match right.get(i).copied().unwrap_or(false) {
                    true => format!("{pad}{cell}"),
                    false => format!("{cell}{pad}"),
                }
            })
            .collect();
        format!("{}\n", padded.join("  ").trim_end())
    };
    let mut out = line(header);
    let rule: Vec<String> = widths.iter().map(|w| "─".repeat(*w)).collect();
    out.push_str(&format!("{}\n", rule.join("  ")));
    for row in rows {
        out.push_str(&line(row));
    }
    out
}

/// Terminal columns of `s`.
pub fn width(s: &str) -> usize {
    crate::output::report::terminal::display_width(s)
}

/// `text` cut to `max` columns with `…`.
pub fn cut(text: &str, max: usize) -> String {
    if width(text) <= max {
        return text.to_string();
    }
    let mut out = String::new();
    for c in text.chars() {
        if width(&out) + width(&c.to_string()) + 1 > max {
            break;
        }
        out.push(c);
    }
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligns_wide_characters_and_numbers() {
        let header = vec!["名称".to_string(), "n".to_string()];
        let rows = vec![vec!["a".to_string(), "1234".to_string()]];
        let text = render(&header, &rows, &[false, true]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "名称     n");
        assert_eq!(lines[2], "a     1234");
        assert_eq!(cut("abcdef", 4), "abc…");
        assert_eq!(cut("abc", 4), "abc");
    }
}
