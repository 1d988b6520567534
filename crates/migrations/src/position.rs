//! Byte offsets and character positions → 1-based line and column.

/// Where each line of a text starts, to turn offsets into `line:column`.
#[derive(Debug, Clone)]
pub struct LineIndex<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    /// Index `text`.
    pub fn new(text: &'a str) -> LineIndex<'a> {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { text, starts }
    }

    /// 1-based line and column (in characters) of a byte offset; an offset
    /// past the end is the end, one inside a character is that character.
    pub fn at_byte(&self, byte: usize) -> (u32, u32) {
        let mut byte = byte.min(self.text.len());
        while !self.text.is_char_boundary(byte) {
            byte -= 1;
        }
        let line = self.starts.partition_point(|&s| s <= byte) - 1;
        let column = self.text[self.starts[line]..byte].chars().count() + 1;
        (line as u32 + 1, column as u32)
    }

    /// The byte offset of a 1-based character position (PostgreSQL's error
    /// cursor counts characters, not bytes); past the end is the end.
    pub fn byte_of_char(&self, cursor: usize) -> usize {
        self.text
            .char_indices()
            .nth(cursor.saturating_sub(1))
            .map(|(b, _)| b)
            .unwrap_or(self.text.len())
    }

    /// The first byte at or after `from` that is neither white space nor
    /// inside a `--` or `/* */` comment: where a statement whose recorded
    /// start includes the comments before it really begins.
    pub fn skip_blank(&self, from: usize) -> usize {
        let b = self.text.as_bytes();
        let mut i = from.min(b.len());
        loop {
            while i < b.len() && b[i].is_ascii_whitespace() {
                i += 1;
            }
            if b[i..].starts_with(b"--") {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            } else if b[i..].starts_with(b"/*") {
                // Block comments nest in PostgreSQL.
                let mut depth = 0usize;
                while i < b.len() {
                    if b[i..].starts_with(b"/*") {
                        depth += 1;
                        i += 2;
                    } else if b[i..].starts_with(b"*/") {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
            } else {
                return i;
            }
        }
    }
}

/// Where each command of an `ALTER TABLE name cmd, cmd, …` begins (byte
/// offsets), from PostgreSQL's scanner tokens: the first token after the
/// table's (possibly qualified) name at `name_at`, then the first token after
/// each comma outside parentheses, up to `end`. Empty when `name_at` is
/// unknown.
pub fn command_starts(
    tokens: &[pg_query::protobuf::ScanToken],
    name_at: i32,
    end: usize,
) -> Vec<usize> {
    use pg_query::protobuf::Token;
    let Ok(name_at) = usize::try_from(name_at) else {
        return Vec::new();
    };
    let comment = |t: &pg_query::protobuf::ScanToken| {
        t.token == Token::SqlComment as i32 || t.token == Token::CComment as i32
    };
    let mut it = tokens
        .iter()
        .filter(|t| !comment(t))
        .filter(|t| usize::try_from(t.start).is_ok_and(|s| s >= name_at && s < end))
        .peekable();
    // The name: part (. part)*.
    it.next();
    while it.peek().is_some_and(|t| t.token == Token::Ascii46 as i32) {
        it.next();
        it.next();
    }
    let mut starts = Vec::new();
    let mut depth = 0i32;
    let mut expect_start = true;
    for t in it {
        if expect_start {
            starts.push(t.start as usize);
            expect_start = false;
        }
        match t.token {
            x if x == Token::Ascii40 as i32 => depth += 1,
            x if x == Token::Ascii41 as i32 => depth -= 1,
            x if x == Token::Ascii44 as i32 && depth == 0 => expect_start = true,
            _ => {}
        }
    }
    starts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_columns_are_one_based_and_count_characters() {
        let t = "ab\nçé x\n";
        let ix = LineIndex::new(t);
        assert_eq!(ix.at_byte(0), (1, 1));
        assert_eq!(ix.at_byte(3), (2, 1));
        // "çé " is 5 bytes; x is the 4th character of line 2.
        assert_eq!(ix.at_byte(8), (2, 4));
        assert_eq!(ix.at_byte(999), (3, 1));
        assert_eq!(ix.byte_of_char(7), 8);
        assert_eq!(ix.byte_of_char(100), t.len());
    }

    #[test]
    fn alter_table_commands_start_after_the_name_and_each_top_level_comma() {
        let sql = "alter table public . t\n  add constraint c check (a in (1, 2)), -- x, y\n  drop column b;";
        let tokens = pg_query::scan(sql).unwrap().tokens;
        let starts = command_starts(&tokens, 12, sql.len());
        let words: Vec<&str> = starts.iter().map(|&s| &sql[s..s + 4]).collect();
        assert_eq!(words, vec!["add ", "drop"]);
        assert!(command_starts(&tokens, -1, sql.len()).is_empty());
    }

    #[test]
    fn statement_starts_skip_comments_and_blank_lines() {
        let t = "-- one\n\n/* two /* nested */ still */\n  alter table x";
        let ix = LineIndex::new(t);
        let start = ix.skip_blank(0);
        assert_eq!(&t[start..start + 5], "alter");
        assert_eq!(ix.at_byte(start), (4, 3));
    }
}
