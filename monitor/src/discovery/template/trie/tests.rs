use super::*;
use crate::discovery::template::Template;

fn text(t: &PathTemplater, path: &str) -> String {
    Template::name(&t.template(path)).text
}

fn learn(t: &mut PathTemplater, path: &str) -> String {
    Template::name(&t.learn(path).parts).text
}

#[test]
fn typed_ids_are_parameters_at_once_and_literal_siblings_stay() {
    let mut t = PathTemplater::default();
    assert_eq!(learn(&mut t, "/users/42"), "/users/{userId}");
    assert_eq!(learn(&mut t, "/users/me"), "/users/me");
    assert_eq!(
        learn(&mut t, "/users/123e4567-e89b-12d3-a456-426614174000/orders"),
        "/users/{userId}/orders"
    );
    assert_eq!(text(&t, "/users/7/orders"), "/users/{userId}/orders");
    assert_eq!(text(&t, "/users/me"), "/users/me");
    assert_eq!(text(&t, "/v1/users"), "/v1/users");
    assert_eq!(text(&t, "/"), "/");
    assert_eq!(learn(&mut t, "/"), "/");
}

#[test]
fn many_rare_words_become_a_parameter_keeping_frequent_siblings() {
    let mut t = PathTemplater::default();
    for _ in 0..30 {
        learn(&mut t, "/users/me/profile");
        learn(&mut t, "/teams/alpha");
    }
    let names: Vec<String> = (0..40).map(|i| format!("name{i}x")).collect();
    let mut generalized = 0;
    for name in &names {
        let learned = t.learn(&format!("/users/{name}/profile"));
        generalized += u32::from(learned.generalized);
    }
    assert_eq!(generalized, 1, "one position generalized once");
    for name in &names {
        assert_eq!(
            text(&t, &format!("/users/{name}/profile")),
            "/users/{userId}/profile"
        );
    }
    assert_eq!(text(&t, "/users/me/profile"), "/users/me/profile");
    assert_eq!(
        text(&t, "/users/somebody-new/profile"),
        "/users/{userId}/profile"
    );
    // Another prefix is not touched: `teams` has one word.
    assert_eq!(text(&t, "/teams/alpha"), "/teams/alpha");
    assert_eq!(text(&t, "/teams/beta"), "/teams/beta");
}

#[test]
fn few_frequent_words_stay_literal() {
    let mut t = PathTemplater::default();
    let resources = [
        "users", "orders", "items", "carts", "payments", "invoices", "reports", "teams",
        "projects", "tasks", "comments", "tags", "files", "events", "alerts", "webhooks",
        "settings", "audit",
    ];
    // Interleaved as real clients call them (a fixed pseudo-random order, uneven weights).
    let mut state = 7u64;
    for _ in 0..400 {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let pick = ((state >> 33) % 171) as usize;
        // Triangular weights: resource i has weight 18 - i.
        let (mut i, mut acc) = (0, 0);
        while acc + (18 - i) <= pick {
            acc += 18 - i;
            i += 1;
        }
        learn(&mut t, &format!("/api/{}", resources[i]));
    }
    for r in resources {
        assert_eq!(text(&t, &format!("/api/{r}")), format!("/api/{r}"));
    }
    assert_eq!(t.generalizations, 0);
}

#[test]
fn words_seen_often_still_generalize_past_the_forced_limit() {
    let limits = TemplaterLimits {
        param_threshold: 4,
        max_nodes: 1000,
    };
    let mut t = PathTemplater::new(limits);
    for i in 0..16 {
        for _ in 0..10 {
            learn(&mut t, &format!("/tenants/t{i}x"));
        }
    }
    assert_eq!(text(&t, "/tenants/t3x"), "/tenants/{tenantId}");
    assert_eq!(t.generalizations, 1);
}

#[test]
fn subtrees_merge_and_keep_generalizing() {
    let limits = TemplaterLimits {
        param_threshold: 8,
        max_nodes: 10_000,
    };
    let mut t = PathTemplater::new(limits);
    // owner/repo pairs of words, each rare: both positions must become parameters.
    for i in 0..40 {
        learn(&mut t, &format!("/repos/owner{i}a/repo{i}b/issues"));
    }
    assert_eq!(
        text(&t, "/repos/someone/something/issues"),
        "/repos/{repoId}/{param}/issues"
    );
    assert_eq!(
        text(&t, "/repos/owner1a/repo1b/pulls"),
        "/repos/{repoId}/{param}/pulls"
    );
    assert!(t.nodes() < 10, "merged tree is small: {} nodes", t.nodes());
}

#[test]
fn templates_are_stable_as_traffic_grows() {
    let mut t = PathTemplater::default();
    for i in 0..100 {
        learn(&mut t, &format!("/articles/slug-{i}-words/comments"));
    }
    let before = text(&t, "/articles/slug-1-words/comments");
    assert_eq!(before, "/articles/{articleId}/comments");
    for i in 0..1000 {
        learn(&mut t, &format!("/articles/slug-{}-words/comments", i % 7));
    }
    assert_eq!(text(&t, "/articles/slug-1-words/comments"), before);
    assert_eq!(t.generalizations, 1);
}

#[test]
fn a_full_tree_makes_unseen_segments_parameters_and_counts_them() {
    let limits = TemplaterLimits {
        param_threshold: 1000,
        max_nodes: 5,
    };
    let mut t = PathTemplater::new(limits);
    for w in ["a", "b", "c", "d", "e", "f", "g"] {
        learn(&mut t, &format!("/{w}"));
    }
    assert!(t.nodes() <= 6, "{} nodes", t.nodes());
    assert!(t.capped >= 1);
    assert_eq!(text(&t, "/a"), "/a");
}

#[test]
fn trailing_slashes_and_empty_segments_are_kept_apart() {
    let mut t = PathTemplater::default();
    assert_eq!(learn(&mut t, "/users/"), "/users/");
    assert_eq!(learn(&mut t, "/users"), "/users");
    assert_eq!(learn(&mut t, "//x"), "//x");
}
