//! Screen geometry shared by drawing and input: where each view's list rows are,
//! so page sizes, mouse clicks and drawing always agree. Every rectangle is
//! computed with saturating arithmetic: any terminal size, even 1x1, is safe.

use super::action::ViewId;
use ratatui::layout::Rect;

/// The regions of one screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Regions {
    /// Tabs and breadcrumb (top row).
    pub header: Rect,
    /// The view's frame (bordered block).
    pub body: Rect,
    /// Above the list rows inside the body (run summary), may be empty.
    pub summary: Rect,
    /// The list's column header row.
    pub table_header: Rect,
    /// The list rows (one row per item).
    pub list: Rect,
    /// A detail pane under the list, may be empty.
    pub detail: Rect,
    pub status: Rect,
    pub footer: Rect,
}

fn row(area: Rect, y: u16) -> Rect {
    Rect::new(area.x, area.y.saturating_add(y), area.width, 1).intersection(area)
}

/// Shrinks by one cell on every side (a bordered block's inside).
pub fn inner(r: Rect) -> Rect {
    Rect::new(
        r.x.saturating_add(1),
        r.y.saturating_add(1),
        r.width.saturating_sub(2),
        r.height.saturating_sub(2),
    )
}

/// Takes `n` rows from the top of `r`: (taken, rest).
fn split_top(r: Rect, n: u16) -> (Rect, Rect) {
    let n = n.min(r.height);
    (
        Rect::new(r.x, r.y, r.width, n),
        Rect::new(r.x, r.y + n, r.width, r.height - n),
    )
}

/// Takes `n` rows from the bottom of `r`: (rest, taken).
fn split_bottom(r: Rect, n: u16) -> (Rect, Rect) {
    let n = n.min(r.height);
    (
        Rect::new(r.x, r.y, r.width, r.height - n),
        Rect::new(r.x, r.y + r.height - n, r.width, n),
    )
}

/// Where everything goes for `view` on a screen of `area`.
pub fn regions(view: ViewId, area: Rect) -> Regions {
    let mut g = Regions {
        header: row(area, 0),
        ..Default::default()
    };
    if area.height < 4 {
        return g;
    }
    g.footer = row(area, area.height - 1);
    g.status = row(area, area.height - 2);
    let body = Rect::new(area.x, area.y + 1, area.width, area.height - 3);
    // Views with a detail pane split the body when there is room.
    let detail_rows = match view {
        ViewId::Skills | ViewId::Sources if body.height >= 12 => body.height * 2 / 5,
        // Findings: room for what to do and a chain's steps on a tall screen.
        ViewId::Findings if body.height >= 30 => (body.height * 2 / 5).min(20),
        ViewId::Findings if body.height >= 14 => 8,
        _ => 0,
    };
    let (list_block, detail) = split_bottom(body, detail_rows);
    g.body = list_block;
    g.detail = detail;
    let inside = inner(list_block);
    let summary_rows = match view {
        ViewId::Run | ViewId::Replay => 2,
        _ => 0,
    };
    let (summary, rest) = split_top(inside, summary_rows);
    g.summary = summary;
    let header_rows = match view {
        ViewId::Span => 0,
        _ => 1,
    };
    let (th, list) = split_top(rest, header_rows);
    g.table_header = th;
    g.list = list;
    g
}

/// The list row under a screen cell, if the cell is on one.
pub fn row_at(view: ViewId, area: Rect, column: u16, y: u16) -> Option<usize> {
    let l = regions(view, area).list;
    let inside = column >= l.x && column < l.x + l.width && y >= l.y && y < l.y + l.height;
    inside.then(|| (y - l.y) as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_size_gives_rects_inside_the_screen() {
        for w in 0..50u16 {
            for h in 0..30u16 {
                let area = Rect::new(0, 0, w, h);
                for v in ViewId::ALL {
                    let g = regions(v, area);
                    for r in [
                        g.header,
                        g.body,
                        g.summary,
                        g.table_header,
                        g.list,
                        g.detail,
                        g.status,
                        g.footer,
                    ] {
                        assert!(
                            r.right() <= w.max(r.x) && r.bottom() <= h.max(r.y),
                            "{v:?} {w}x{h} {r:?}"
                        );
                    }
                }
            }
        }
        let g = regions(ViewId::Runs, Rect::new(0, 0, 80, 24));
        assert_eq!(g.list, Rect::new(1, 3, 78, 18));
        assert_eq!(row_at(ViewId::Runs, Rect::new(0, 0, 80, 24), 5, 4), Some(1));
        assert_eq!(row_at(ViewId::Runs, Rect::new(0, 0, 80, 24), 5, 1), None);
    }
}
