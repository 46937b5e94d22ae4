//! The widths of the issue table's columns at a given total width: a location is never
//! wrapped (one `path:lines` is read, copied and pasted whole), the title is the
//! column that gives way, then who reported it, and only when even that is not enough
//! is a location shortened, from the left, so that the file name and lines stay.

use unicode_width::UnicodeWidthStr;

/// What the borders and the padding of a six-column `UTF8_FULL_CONDENSED` table take:
/// seven vertical lines and one space each side of every cell.
const TABLE_OVERHEAD: usize = 7 + 2 * 6;

/// The narrowest the title column is made: a few words a line.
const MIN_TITLE: usize = 16;

/// The narrowest the "reported by" column is made: one model name a line.
const MIN_REPORTED_BY: usize = 10;

/// The narrowest a shortened location gets: `…` and the file name with its lines. With
/// the two minimums above, the table still fits an 80-column terminal.
const MIN_LOCATION: usize = 14;

/// The part of the width left after the location that "reported by" may take, in
/// fifths: the title keeps the larger share.
const REPORTED_BY_FIFTHS: usize = 2;

/// What a shortened location starts with.
pub const ELLIPSIS: &str = "…";

/// The widths the content of each column needs, measured in display columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Needed {
    /// `#`, `agreed` and `severity` together: short, never shrunk.
    pub fixed: usize,
    pub location: usize,
    pub title: usize,
    pub reported_by: usize,
}

/// The widths chosen for the columns that may shrink; `None` when the table fits as it
/// is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Widths {
    pub location: usize,
    pub title: usize,
    pub reported_by: usize,
}

/// The column widths for a table `total` columns wide.
pub fn widths(needed: Needed, total: usize) -> Option<Widths> {
    let room = total.saturating_sub(TABLE_OVERHEAD + needed.fixed);
    if needed.location + needed.title + needed.reported_by <= room {
        return None;
    }
    let min_title = MIN_TITLE.min(needed.title);
    let min_reported = MIN_REPORTED_BY.min(needed.reported_by);
    let location = needed
        .location
        .min(room.saturating_sub(min_title + min_reported))
        .max(MIN_LOCATION.min(needed.location));
    let rest = room.saturating_sub(location);
    let reported_by = needed.reported_by.min(rest * REPORTED_BY_FIFTHS / 5).max(min_reported);
    // Never wider than the longest title: what it does not need goes to who reported.
    let title = rest.saturating_sub(reported_by).min(needed.title).max(min_title);
    let reported_by = needed.reported_by.min(rest.saturating_sub(title)).max(reported_by);
    Some(Widths {
        location,
        title,
        reported_by,
    })
}

/// Display columns `text` takes.
pub fn display_width(text: &str) -> usize {
    UnicodeWidthStr::width(text)
}

/// `location` as it fits in `width` columns: whole, or `…` and as much of its end as
/// fits (the file name and the lines are at the end).
pub fn shorten_location(location: &str, width: usize) -> String {
    if display_width(location) <= width {
        return location.to_string();
    }
    let room = width.saturating_sub(display_width(ELLIPSIS));
    let mut kept = 0;
    let mut start = location.len();
    for (at, c) in location.char_indices().rev() {
        let w = UnicodeWidthStr::width(c.encode_utf8(&mut [0; 4]) as &str);
        if kept + w > room {
            break;
        }
        kept += w;
        start = at;
    }
    format!("{ELLIPSIS}{}", &location[start..])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The demo's widest cells at 120 columns.
    const DEMO: Needed = Needed {
        fixed: 2 + 6 + 8,
        location: 38,
        title: 60,
        reported_by: 33,
    };

    #[test]
    fn a_table_that_fits_is_left_alone() {
        assert_eq!(widths(DEMO, 200), None);
    }

    #[test]
    fn the_title_gives_way_before_the_location() {
        let w = widths(DEMO, 120).unwrap();
        assert_eq!(w.location, 38, "{w:?}");
        assert!(w.title >= w.reported_by, "{w:?}");
        assert_eq!(TABLE_OVERHEAD + DEMO.fixed + w.location + w.title + w.reported_by, 120);
    }

    #[test]
    fn an_80_column_table_shortens_the_location_last() {
        let w = widths(DEMO, 80).unwrap();
        assert_eq!(w.title, MIN_TITLE, "{w:?}");
        assert_eq!(w.reported_by, MIN_REPORTED_BY, "{w:?}");
        assert_eq!(TABLE_OVERHEAD + DEMO.fixed + w.location + w.title + w.reported_by, 80);
        assert!(w.location < DEMO.location);
    }

    #[test]
    fn a_short_title_leaves_its_room_to_who_reported() {
        let needed = Needed {
            fixed: 16,
            location: 20,
            title: 30,
            reported_by: 60,
        };
        let w = widths(needed, 120).unwrap();
        assert_eq!(w.title, 30, "{w:?}");
        assert_eq!(
            TABLE_OVERHEAD + needed.fixed + w.location + w.title + w.reported_by,
            120
        );
    }

    #[test]
    fn a_very_narrow_table_keeps_every_minimum() {
        let w = widths(DEMO, 40).unwrap();
        assert_eq!(
            (w.location, w.title, w.reported_by),
            (MIN_LOCATION, MIN_TITLE, MIN_REPORTED_BY)
        );
    }

    #[test]
    fn a_location_is_shortened_from_the_left() {
        let loc = "internal/handlers/attachments.go:68-74";
        assert_eq!(shorten_location(loc, 60), loc);
        let short = shorten_location(loc, 22);
        assert_eq!(short, "…/attachments.go:68-74");
        assert_eq!(display_width(&short), 22);
        // Wide characters count twice and are never cut in half.
        let wide = shorten_location("数据/文件.go:1", 9);
        assert_eq!(wide, "…件.go:1");
        assert!(display_width(&wide) <= 9);
    }
}
