//! The 30 NBA teams as each outside source names them.
//!
//! The Odds API identifies teams only by full display name; NBA.com by a numeric team id and a
//! tricode, with `"LA"` as the Clippers' city. Matching on ids through this table avoids the
//! Clippers trap ("LA Clippers" vs "Los Angeles Clippers").

/// One franchise across sources.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Team {
    /// NBA.com `teamId` (`TEAM_ID`, `HOME_TEAM_ID`, ...).
    pub id: i64,
    /// NBA.com `teamTricode`.
    pub tricode: &'static str,
    /// NBA.com `teamCity` (`"LA"` for the Clippers).
    pub city: &'static str,
    /// NBA.com `teamName`.
    pub nickname: &'static str,
    /// The `home_team`/`away_team` string of The Odds API.
    pub odds_api_name: &'static str,
}

impl Team {
    /// The name NBA.com shows (`TEAM_NAME`): city and nickname, e.g. `"LA Clippers"`.
    pub fn nba_name(&self) -> String {
        format!("{} {}", self.city, self.nickname)
    }
}

const fn team(
    id: i64,
    tricode: &'static str,
    city: &'static str,
    nickname: &'static str,
    odds_api_name: &'static str,
) -> Team {
    Team {
        id,
        tricode,
        city,
        nickname,
        odds_api_name,
    }
}

/// Sorted by The Odds API name.
pub const TEAMS: [Team; 30] = [
    team(1610612737, "ATL", "Atlanta", "Hawks", "Atlanta Hawks"),
    team(1610612738, "BOS", "Boston", "Celtics", "Boston Celtics"),
    team(1610612751, "BKN", "Brooklyn", "Nets", "Brooklyn Nets"),
    team(
        1610612766,
        "CHA",
        "Charlotte",
        "Hornets",
        "Charlotte Hornets",
    ),
    team(1610612741, "CHI", "Chicago", "Bulls", "Chicago Bulls"),
    team(
        1610612739,
        "CLE",
        "Cleveland",
        "Cavaliers",
        "Cleveland Cavaliers",
    ),
    team(1610612742, "DAL", "Dallas", "Mavericks", "Dallas Mavericks"),
    team(1610612743, "DEN", "Denver", "Nuggets", "Denver Nuggets"),
    team(1610612765, "DET", "Detroit", "Pistons", "Detroit Pistons"),
    team(
        1610612744,
        "GSW",
        "Golden State",
        "Warriors",
        "Golden State Warriors",
    ),
    team(1610612745, "HOU", "Houston", "Rockets", "Houston Rockets"),
    team(1610612754, "IND", "Indiana", "Pacers", "Indiana Pacers"),
    team(1610612746, "LAC", "LA", "Clippers", "Los Angeles Clippers"),
    team(
        1610612747,
        "LAL",
        "Los Angeles",
        "Lakers",
        "Los Angeles Lakers",
    ),
    team(
        1610612763,
        "MEM",
        "Memphis",
        "Grizzlies",
        "Memphis Grizzlies",
    ),
    team(1610612748, "MIA", "Miami", "Heat", "Miami Heat"),
    team(1610612749, "MIL", "Milwaukee", "Bucks", "Milwaukee Bucks"),
    team(
        1610612750,
        "MIN",
        "Minnesota",
        "Timberwolves",
        "Minnesota Timberwolves",
    ),
    team(
        1610612740,
        "NOP",
        "New Orleans",
        "Pelicans",
        "New Orleans Pelicans",
    ),
    team(1610612752, "NYK", "New York", "Knicks", "New York Knicks"),
    team(
        1610612760,
        "OKC",
        "Oklahoma City",
        "Thunder",
        "Oklahoma City Thunder",
    ),
    team(1610612753, "ORL", "Orlando", "Magic", "Orlando Magic"),
    team(
        1610612755,
        "PHI",
        "Philadelphia",
        "76ers",
        "Philadelphia 76ers",
    ),
    team(1610612756, "PHX", "Phoenix", "Suns", "Phoenix Suns"),
    team(
        1610612757,
        "POR",
        "Portland",
        "Trail Blazers",
        "Portland Trail Blazers",
    ),
    team(1610612758, "SAC", "Sacramento", "Kings", "Sacramento Kings"),
    team(
        1610612759,
        "SAS",
        "San Antonio",
        "Spurs",
        "San Antonio Spurs",
    ),
    team(1610612761, "TOR", "Toronto", "Raptors", "Toronto Raptors"),
    team(1610612762, "UTA", "Utah", "Jazz", "Utah Jazz"),
    team(
        1610612764,
        "WAS",
        "Washington",
        "Wizards",
        "Washington Wizards",
    ),
];

/// Spellings seen in other feeds for the same franchise. Slug-style names ("Sixers",
/// "Blazers") are deliberately absent: they are ambiguous shorthand, not names.
const ALIASES: [(&str, &str); 3] = [
    ("LAC", "L.A. Clippers"),
    ("LAL", "L.A. Lakers"),
    ("POR", "Portland Trailblazers"),
];

/// Compares names case-insensitively and with runs of whitespace collapsed, because hand-typed
/// configuration and third-party feeds differ in exactly those ways.
fn same_name(a: &str, b: &str) -> bool {
    let mut left = a.split_whitespace();
    let mut right = b.split_whitespace();
    loop {
        match (left.next(), right.next()) {
            (None, None) => return true,
            (Some(x), Some(y)) if x.eq_ignore_ascii_case(y) => continue,
            _ => return false,
        }
    }
}

/// The team of a display name: The Odds API's (`"Los Angeles Clippers"`), NBA.com's
/// (`"LA Clippers"`) or a known alias. `None` for anything else, so callers fail loudly instead
/// of guessing.
pub fn by_name(name: &str) -> Option<&'static Team> {
    TEAMS
        .iter()
        .find(|t| same_name(t.odds_api_name, name) || same_name(&t.nba_name(), name))
        .or_else(|| {
            ALIASES
                .iter()
                .find(|(_, alias)| same_name(alias, name))
                .and_then(|(tricode, _)| by_tricode(tricode))
        })
}

/// The team of an NBA.com team id.
pub fn by_id(id: i64) -> Option<&'static Team> {
    TEAMS.iter().find(|t| t.id == id)
}

/// The team of an NBA.com tricode (`"PHX"`, not other feeds' `"PHO"`).
pub fn by_tricode(tricode: &str) -> Option<&'static Team> {
    TEAMS
        .iter()
        .find(|t| t.tricode.eq_ignore_ascii_case(tricode.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn thirty_distinct_teams() {
        let ids: HashSet<_> = TEAMS.iter().map(|t| t.id).collect();
        let codes: HashSet<_> = TEAMS.iter().map(|t| t.tricode).collect();
        let names: HashSet<_> = TEAMS.iter().map(|t| t.odds_api_name).collect();
        assert_eq!((ids.len(), codes.len(), names.len()), (30, 30, 30));
    }

    #[test]
    fn every_team_maps_both_ways() {
        for t in &TEAMS {
            assert_eq!(by_name(t.odds_api_name), Some(t), "{}", t.odds_api_name);
            assert_eq!(by_name(&t.nba_name()), Some(t), "{}", t.nba_name());
            assert_eq!(by_id(t.id).map(|x| x.odds_api_name), Some(t.odds_api_name));
            assert_eq!(by_tricode(t.tricode), Some(t));
        }
    }

    #[test]
    fn the_awkward_names() {
        let clippers = by_name("Los Angeles Clippers").unwrap();
        assert_eq!(by_name("LA Clippers"), Some(clippers));
        assert_eq!(by_name("L.A. Clippers"), Some(clippers));
        assert_eq!(clippers.tricode, "LAC");
        assert_ne!(by_name("Los Angeles Lakers"), Some(clippers));
        assert_eq!(by_name("philadelphia  76ERS").unwrap().tricode, "PHI");
        assert_eq!(by_name("Portland Trail Blazers").unwrap().tricode, "POR");
        assert_eq!(by_name("Portland Trailblazers").unwrap().tricode, "POR");
        assert_eq!(
            by_name("Golden State Warriors").unwrap().city,
            "Golden State"
        );
        assert_eq!(by_name("Seattle SuperSonics"), None);
        assert_eq!(by_name("Sixers"), None);
        assert_eq!(by_name(""), None);
        assert_eq!(by_tricode("PHO"), None);
        assert_eq!(by_id(0), None);
    }
}
