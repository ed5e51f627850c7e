use super::*;
use crate::stable::{ChangeKind, Previous, assign};
use rustc_hash::FxHashMap;

const PHONE: usize = 0;
const EMAIL: usize = 1;
const MEMBER: usize = 2;
const OPENID: usize = 3;
const DEVICE: usize = 4;

fn ident(name: &str, normalizer: Normalizer) -> IdentifierRule {
    IdentifierRule {
        name: name.into(),
        normalizer,
        weak: false,
        capacity: None,
        scoped: false,
        pii: false,
    }
}

/// The example's rules: phone, email, member_id (unique), openid (scoped), device (weak, 2).
fn rules() -> Rules {
    let mut member = ident("member_id", Normalizer::Trim);
    member.capacity = Some(1);
    let mut openid = ident("openid", Normalizer::Trim);
    openid.scoped = true;
    let mut device = ident("device_id", Normalizer::Trim);
    device.weak = true;
    device.capacity = Some(2);
    Rules {
        identifiers: vec![
            ident("phone", Normalizer::PhoneCn),
            ident("email", Normalizer::Email),
            member,
            openid,
            device,
        ],
        rejects: vec![(PHONE, "13800000000".into())],
        frequent_above: Some(3),
        max_component: None,
    }
}

/// Whether two rows are one person.
fn same(res: &Resolution, a: u32, b: u32) -> bool {
    res.record_component[res.record_of(a) as usize]
        == res.record_component[res.record_of(b) as usize]
}

/// Explains two rows.
fn explain(res: &Resolution, rows: &Kept, a: u32, b: u32) -> Explanation {
    res.explain(res.record_of(a), res.record_of(b), rows, false)
}

/// The rows a test gave, by number: what a caller reads back from its sources.
#[derive(Default)]
struct Kept(FxHashMap<u32, Vec<(usize, String, Option<String>)>>);

/// A row's fields as [`Kept`] holds them.
fn owned(fields: &[(usize, &str, Option<&str>)]) -> Vec<(usize, String, Option<String>)> {
    fields
        .iter()
        .map(|&(i, raw, scope)| (i, raw.to_string(), scope.map(str::to_string)))
        .collect()
}

impl Rows for Kept {
    fn fields(&self, row: u32, field: &mut dyn FnMut(usize, &str, Option<&str>)) {
        for (ident, raw, scope) in self.0.get(&row).into_iter().flatten() {
            field(*ident, raw, scope.as_deref());
        }
    }
}

/// A builder that keeps the rows it is given, to read values' text back.
struct Given {
    b: Builder,
    kept: Kept,
}

impl Given {
    fn new(rules: Rules) -> Given {
        Given {
            b: Builder::new(rules),
            kept: Kept::default(),
        }
    }

    fn add(&mut self, source: u32, key: &str, fields: &[(usize, &str, Option<&str>)]) -> u32 {
        let row = self.b.add(source, key, fields);
        self.kept.0.insert(row, owned(fields));
        row
    }

    fn resolve(self) -> (Resolution, Kept) {
        (self.b.resolve(), self.kept)
    }
}

#[test]
fn phones_written_differently_join() {
    let mut b = Builder::new(rules());
    let crm = b.add(
        0,
        "k101",
        &[(PHONE, "+86 138-1234-5678", None), (MEMBER, "M1", None)],
    );
    let pos = b.add(1, "k1", &[(PHONE, "13812345678", None)]);
    let res = b.resolve();
    assert!(same(&res, crm, pos));
    assert_eq!(res.components, 1);
}

#[test]
fn repeated_rows_are_one_record() {
    let mut b = Builder::new(rules());
    let r1 = b.add(1, "k2", &[(PHONE, "13812345678", None)]);
    let r2 = b.add(1, "k3", &[(PHONE, "138 1234 5678", None)]);
    let other_source = b.add(2, "k4", &[(PHONE, "13812345678", None)]);
    assert_eq!(b.rows, 3);
    let res = b.resolve();
    assert_eq!(res.record_of(r1), res.record_of(r2));
    assert_ne!(res.record_of(r1), res.record_of(other_source));
    assert_eq!(res.records(), 2);
}

#[test]
fn rejected_and_frequent_values_link_nothing() {
    let mut b = Given::new(rules());
    let a = b.add(
        0,
        "k5",
        &[(PHONE, "13800000000", None), (MEMBER, "A", None)],
    );
    let c = b.add(
        0,
        "k6",
        &[(PHONE, "138 0000 0000", None), (MEMBER, "C", None)],
    );
    // One e-mail on four distinct records: above `frequent_above 3`.
    let shared: Vec<u32> = (0..4)
        .map(|i| {
            b.add(
                1,
                "k102",
                &[
                    (EMAIL, " Shop@Example.com", None),
                    (PHONE, &format!("1390000000{i}"), None),
                ],
            )
        })
        .collect();
    let (res, kept) = b.resolve();
    assert!(!same(&res, a, c));
    assert!(!same(&res, shared[0], shared[1]));
    let states: Vec<ValueState> = res.values.iter().map(|v| v.state).collect();
    assert!(states.contains(&ValueState::Rejected));
    assert!(states.contains(&ValueState::Frequent));
    match explain(&res, &kept, a, c) {
        Explanation::Apart(why) => assert!(why[0].contains("reject"), "{why:?}"),
        other => panic!("{other:?}"),
    }
    match explain(&res, &kept, shared[0], shared[3]) {
        Explanation::Apart(why) => assert!(why[0].contains("shared by 4 records"), "{why:?}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn rows_with_nothing_but_a_rejected_value_stand_alone() {
    // Walk-in orders where the clerk typed the junk phone: nothing says they are one
    // customer, so each is a person of its own (named by its key), not one record.
    let mut b = Given::new(rules());
    let orders: Vec<u32> = (0..3)
        .map(|i| b.add(1, &format!("POS{i}"), &[(PHONE, "138 0000 0000", None)]))
        .collect();
    // With a usable value beside it, the junk phone still takes no part.
    let member = b.add(
        1,
        "POS9",
        &[(PHONE, "13800000000", None), (MEMBER, "A", None)],
    );
    let (res, kept) = b.resolve();
    assert_ne!(res.record_of(orders[0]), res.record_of(orders[1]));
    assert!(!same(&res, orders[0], orders[1]));
    assert!(!same(&res, orders[1], orders[2]));
    assert!(!same(&res, orders[0], member));
    assert_eq!(res.components, 4);
    match explain(&res, &kept, orders[0], orders[2]) {
        Explanation::Apart(why) => assert!(why[0].contains("reject"), "{why:?}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn unique_identifiers_never_share_a_person() {
    let mut b = Given::new(rules());
    // Two members share a phone (a couple): the phone may not merge them.
    let m1 = b.add(
        0,
        "k7",
        &[(MEMBER, "M1", None), (PHONE, "13812345678", None)],
    );
    let m2 = b.add(
        0,
        "k8",
        &[(MEMBER, "M2", None), (PHONE, "13812345678", None)],
    );
    // An order with only the phone joins one of them: the member whose record comes
    // first in fingerprint order (the first join wins).
    let order = b.add(1, "k9", &[(PHONE, "13812345678", None)]);
    let (res, kept) = b.resolve();
    assert!(!same(&res, m1, m2));
    let first = if res.record_of(m1) < res.record_of(m2) {
        m1
    } else {
        m2
    };
    assert!(same(&res, first, order));
    assert_eq!(res.conflicts.len(), 1);
    match explain(&res, &kept, m1, m2) {
        Explanation::Apart(why) => {
            assert!(
                why.iter()
                    .any(|w| w.contains("unique identifier `member_id`")),
                "{why:?}"
            )
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn scoped_values_need_their_scope() {
    let mut b = Builder::new(rules());
    let a = b.add(
        2,
        "k103",
        &[
            (OPENID, "o-1", Some("wx-app")),
            (PHONE, "13812345678", None),
        ],
    );
    let same_app = b.add(2, "k10", &[(OPENID, "o-1", Some("wx-app"))]);
    let other_app = b.add(2, "k11", &[(OPENID, "o-1", Some("mini-app"))]);
    let no_scope = b.add(2, "k12", &[(OPENID, "o-1", None)]);
    let res = b.resolve();
    assert!(same(&res, a, same_app));
    assert!(!same(&res, a, other_app));
    assert!(!same(&res, a, no_scope));
}

/// A value's text is read back from a row carrying it, normalized and after its
/// scope; rows that no longer give it leave its fingerprint.
#[test]
fn value_texts_are_read_back_from_the_rows() {
    let mut b = Given::new(rules());
    b.add(0, "k1", &[(PHONE, "+86 138-1234-5678", None)]);
    b.add(
        2,
        "k2",
        &[
            (OPENID, " o-1 ", Some(" wx-app ")),
            (EMAIL, " A@B.cn ", None),
        ],
    );
    let (res, kept) = b.resolve();
    let all: Vec<u32> = (0..res.values.len() as u32).collect();
    let mut texts = res.value_texts(&all, &kept);
    texts.sort();
    assert_eq!(texts, ["13812345678", "a@b.cn", "wx-app/o-1"]);
    let gone = res.value_texts(&all, &Kept::default());
    for (v, text) in all.iter().zip(&gone) {
        let fp = res.values[*v as usize].fingerprint;
        assert_eq!(*text, format!("#{fp:016x}"));
    }
}

/// The weak rule: a weak value joins every person and anonymous record carrying it,
/// unless two of them hold different values of one strong identifier.
#[test]
fn weak_identifiers_join_what_no_strong_identifier_keeps_apart() {
    let mut b = Given::new(rules());
    // A family tablet: two members on one iPad stay two people, and the tablet's
    // anonymous touches belong to neither.
    let alice = b.add(
        0,
        "k104",
        &[
            (MEMBER, "A", None),
            (DEVICE, "ipad", None),
            (DEVICE, "phone-a", None),
        ],
    );
    let bob = b.add(0, "k13", &[(MEMBER, "B", None), (DEVICE, "ipad", None)]);
    let on_alices_phone = b.add(3, "k14", &[(DEVICE, "phone-a", None)]);
    let on_the_family_ipad = b.add(3, "k15", &[(DEVICE, "ipad", None)]);
    // One person's phone seen logged in, in a mini-program (an openid, no member id)
    // and anonymously: one person.
    let carol = b.add(0, "k20", &[(MEMBER, "C", None), (DEVICE, "phone-c", None)]);
    let carol_in_the_mall = b.add(
        2,
        "k21",
        &[(OPENID, "o-c", Some("mall")), (DEVICE, "phone-c", None)],
    );
    let carol_anonymous = b.add(2, "k22", &[(DEVICE, "phone-c", None)]);
    // Openids of two mini-programs are no conflict; two of one mini-program are.
    let dan_mall = b.add(
        2,
        "k23",
        &[(OPENID, "o-d1", Some("mall")), (DEVICE, "phone-d", None)],
    );
    let dan_showroom = b.add(
        2,
        "k24",
        &[
            (OPENID, "o-d2", Some("showroom")),
            (DEVICE, "phone-d", None),
        ],
    );
    let erin = b.add(
        2,
        "k25",
        &[(OPENID, "o-e", Some("mall")), (DEVICE, "tablet-e", None)],
    );
    let frank = b.add(
        2,
        "k26",
        &[(OPENID, "o-f", Some("mall")), (DEVICE, "tablet-e", None)],
    );
    // Two phone numbers on one device: two people.
    let gail = b.add(
        1,
        "k27",
        &[(PHONE, "13912345678", None), (DEVICE, "pc-g", None)],
    );
    let hank = b.add(
        1,
        "k28",
        &[(PHONE, "13712345678", None), (DEVICE, "pc-g", None)],
    );
    // Anonymous records group by device.
    let unknown = b.add(3, "k16", &[(DEVICE, "tv-1", None)]);
    let unknown_again = b.add(4, "k17", &[(DEVICE, "tv-1", None)]);
    let (res, kept) = b.resolve();
    assert!(!same(&res, alice, bob), "a family tablet merges nobody");
    assert!(same(&res, alice, on_alices_phone));
    assert!(!same(&res, alice, on_the_family_ipad));
    assert!(!same(&res, bob, on_the_family_ipad));
    assert!(
        same(&res, carol, carol_in_the_mall),
        "logged in or not, one person"
    );
    assert!(same(&res, carol, carol_anonymous));
    assert!(
        same(&res, dan_mall, dan_showroom),
        "one openid per mini-program"
    );
    assert!(!same(&res, erin, frank), "two openids of one mini-program");
    assert!(!same(&res, gail, hank), "two phones on one device");
    assert!(same(&res, unknown, unknown_again));
    match explain(&res, &kept, carol_anonymous, carol_in_the_mall) {
        Explanation::Same(hops) => {
            assert_eq!(hops.len(), 1);
            assert_eq!(hops[0].identifier, "device_id");
            assert!(hops[0].rule.starts_with("weak"), "{}", hops[0].rule);
            assert_eq!(hops[0].value, "phone-c");
        }
        other => panic!("{other:?}"),
    }
    match explain(&res, &kept, alice, bob) {
        Explanation::Apart(why) => assert!(
            why.iter()
                .any(|w| w.starts_with("device_id \"ipad\" is weak")
                    && w.contains("different values of the strong identifier `member_id`")),
            "{why:?}"
        ),
        other => panic!("{other:?}"),
    }
    match explain(&res, &kept, erin, frank) {
        Explanation::Apart(why) => {
            assert!(why.iter().any(|w| w.contains("`openid`")), "{why:?}")
        }
        other => panic!("{other:?}"),
    }
    let conflicts = |name: &str| {
        res.refused
            .iter()
            .filter(|(_, why)| match why {
                Refusal::Conflict { identifier } => {
                    res.rules.identifiers[*identifier as usize].name == name
                }
                Refusal::OverCapacity { .. } => false,
            })
            .count()
    };
    assert_eq!(
        (
            conflicts("member_id"),
            conflicts("openid"),
            conflicts("phone")
        ),
        (1, 1, 1)
    );
}

/// Values taken in order of the people they reach: a person's own devices join its
/// records before a device it shares with someone is looked at, so the shared one sees
/// whole people and their conflicts.
#[test]
fn own_devices_join_before_shared_ones() {
    let mut b = Given::new(rules());
    // Ivy, a member, on her phone; in the mall without logging in, on her phone and on
    // the family tablet. Jack, another member, logged in on the tablet, which also has
    // an anonymous touch: the tablet reaches three, Ivy's phone two. Taken first, the
    // tablet would join Ivy's mall visit (no member id) with Jack; taken after her
    // phone, it sees Ivy whole, with her member id, and joins nobody.
    let ivy = b.add(0, "k30", &[(MEMBER, "I", None), (DEVICE, "phone-i", None)]);
    let ivy_mall = b.add(
        2,
        "k31",
        &[
            (OPENID, "o-i", Some("mall")),
            (DEVICE, "phone-i", None),
            (DEVICE, "family-tab", None),
        ],
    );
    let jack = b.add(
        0,
        "k32",
        &[(MEMBER, "J", None), (DEVICE, "family-tab", None)],
    );
    let touch = b.add(3, "k33", &[(DEVICE, "family-tab", None)]);
    let (res, _) = b.resolve();
    assert!(same(&res, ivy, ivy_mall));
    assert!(!same(&res, ivy, jack));
    assert!(!same(&res, jack, touch) && !same(&res, ivy, touch));
}

#[test]
fn weak_max_per_person() {
    let mut b = Builder::new(rules());
    // This person already has two devices (the limit); a third does not attach.
    let p = b.add(
        0,
        "k105",
        &[
            (MEMBER, "A", None),
            (DEVICE, "d1", None),
            (DEVICE, "d2", None),
        ],
    );
    let touch = b.add(3, "k18", &[(DEVICE, "d1", None), (DEVICE, "d3", None)]);
    let ok = b.add(3, "k19", &[(DEVICE, "d2", None)]);
    let res = b.resolve();
    assert!(!same(&res, p, touch));
    assert!(same(&res, p, ok));
    assert!(
        res.refused
            .iter()
            .any(|(_, why)| matches!(why, Refusal::OverCapacity { identifier } if *identifier == DEVICE as u16))
    );
}

#[test]
fn max_component_cuts_at_the_most_shared_value() {
    let mut r = rules();
    r.frequent_above = None;
    r.max_component = Some(3);
    let mut b = Given::new(r);
    // Two people of two records each, joined by one store e-mail on all four.
    let a1 = b.add(
        0,
        "k106",
        &[(PHONE, "13900000001", None), (EMAIL, "store@x.cn", None)],
    );
    let a2 = b.add(
        1,
        "k107",
        &[(PHONE, "13900000001", None), (EMAIL, "store@x.cn", None)],
    );
    let b1 = b.add(
        0,
        "k108",
        &[(PHONE, "13900000002", None), (EMAIL, "store@x.cn", None)],
    );
    let b2 = b.add(1, "k20", &[(PHONE, "13900000002", None)]);
    let (res, kept) = b.resolve();
    assert!(same(&res, a1, a2));
    assert!(same(&res, b1, b2));
    assert!(!same(&res, a1, b1));
    let cut: Vec<String> = (0..res.values.len() as u32)
        .filter(|&v| res.values[v as usize].state == ValueState::Cut)
        .map(|v| res.value_text(v, &kept))
        .collect();
    assert_eq!(cut, ["store@x.cn"]);
    assert!(res.component_sizes().iter().all(|&s| s <= 3));
}

#[test]
fn explain_gives_the_shortest_chain() {
    let mut b = Given::new(rules());
    let crm = b.add(
        0,
        "k109",
        &[
            (MEMBER, "M1", None),
            (PHONE, "13812345678", None),
            (EMAIL, "a@b.cn", None),
        ],
    );
    let pos = b.add(1, "k21", &[(PHONE, "13812345678", None)]);
    let app = b.add(2, "k22", &[(EMAIL, "A@B.CN ", None), (MEMBER, "M1", None)]);
    let far = b.add(3, "k23", &[(EMAIL, "a@b.cn", None)]);
    let (res, kept) = b.resolve();
    match explain(&res, &kept, pos, far) {
        Explanation::Same(hops) => {
            let path: Vec<(u32, &str, u32)> = hops
                .iter()
                .map(|h| (h.from, h.identifier.as_str(), h.to))
                .collect();
            let (pos, crm, far) = (res.record_of(pos), res.record_of(crm), res.record_of(far));
            assert_eq!(path, [(pos, "phone", crm), (crm, "email", far)]);
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(explain(&res, &kept, app, crm), Explanation::Same(h) if h.len() == 1));
}

#[test]
fn same_input_same_ids_and_stable_across_runs() {
    let build = |extra: bool| {
        let mut b = Builder::new(rules());
        b.add(
            0,
            "k24",
            &[(MEMBER, "M1", None), (PHONE, "13812345678", None)],
        );
        b.add(
            0,
            "k25",
            &[(MEMBER, "M2", None), (PHONE, "13912345678", None)],
        );
        b.add(1, "k26", &[(PHONE, "13912345678", None)]);
        if extra {
            // Day 2: a new person, and an order that joins M1 and M2's phones? No:
            // M1 and M2 are unique, so the order joins the first.
            b.add(
                0,
                "k27",
                &[(MEMBER, "M3", None), (PHONE, "13700000000", None)],
            );
        }
        b.resolve()
    };
    let day1 = build(false);
    let a = assign("consumer", "2025-01-01", &day1, &Previous::default());
    let again = assign(
        "consumer",
        "2025-01-01",
        &build(false),
        &Previous::default(),
    );
    assert_eq!(a.ids, again.ids, "same input, same ids");
    assert!(a.changes.iter().all(|c| c.kind == ChangeKind::New));
    // Day 2 keeps every id of day 1 and adds one.
    let prev = previous(&day1, &a);
    let day2 = build(true);
    let b = assign("consumer", "2025-01-02", &day2, &prev);
    for r in 0..day1.records() {
        let fp = day1.record_fps[r];
        let r2 = day2
            .record_fps
            .iter()
            .position(|&f| f == fp)
            .expect("same record");
        assert_eq!(
            a.ids[day1.record_component[r] as usize],
            b.ids[day2.record_component[r2] as usize]
        );
    }
    assert_eq!(
        b.changes
            .iter()
            .filter(|c| c.kind == ChangeKind::New)
            .count(),
        1
    );
}

fn previous(res: &Resolution, a: &stable::Assignment) -> Previous {
    let mut p = Previous::default();
    for r in 0..res.records() {
        p.records
            .insert(res.record_fps[r], a.ids[res.record_component[r] as usize]);
    }
    for &(id, d, active) in &a.registry {
        p.registry.insert(id, (d, active));
    }
    p
}

#[test]
fn merges_keep_the_oldest_id_and_splits_get_new_ones() {
    let mut r = rules();
    r.frequent_above = None;
    // Day 1: two people.
    let mut b = Builder::new(r.clone());
    b.add(0, "k28", &[(PHONE, "13800000001", None)]);
    b.add(1, "k29", &[(EMAIL, "x@y.cn", None)]);
    let day1 = b.resolve();
    let a1 = assign("consumer", "2025-01-01", &day1, &Previous::default());
    let p1 = previous(&day1, &a1);
    // Day 2: a record carrying both joins them.
    let mut b = Builder::new(r.clone());
    b.add(0, "k30", &[(PHONE, "13800000001", None)]);
    b.add(1, "k31", &[(EMAIL, "x@y.cn", None)]);
    b.add(
        2,
        "k32",
        &[(PHONE, "13800000001", None), (EMAIL, "x@y.cn", None)],
    );
    let day2 = b.resolve();
    assert_eq!(day2.components, 1);
    let a2 = assign("consumer", "2025-01-02", &day2, &p1);
    let merges: Vec<_> = a2
        .changes
        .iter()
        .filter(|c| c.kind == ChangeKind::Merge)
        .collect();
    assert_eq!(merges.len(), 1);
    let mut day1_ids = a1.ids.clone();
    day1_ids.sort();
    assert_eq!(
        a2.ids[0], day1_ids[0],
        "same creation date: the smaller id survives"
    );
    assert_eq!(merges[0].other, Some(day1_ids[1]));
    // Day 3: the joining record is gone again: one keeps the id, the other splits off.
    let p2 = previous(&day2, &a2);
    let mut b = Builder::new(r);
    b.add(0, "k33", &[(PHONE, "13800000001", None)]);
    b.add(1, "k34", &[(EMAIL, "x@y.cn", None)]);
    let day3 = b.resolve();
    let a3 = assign("consumer", "2025-01-03", &day3, &p2);
    assert!(a3.ids.contains(&a2.ids[0]));
    let split: Vec<_> = a3
        .changes
        .iter()
        .filter(|c| c.kind == ChangeKind::Split)
        .collect();
    assert_eq!(split.len(), 1);
    assert_eq!(split[0].other, Some(a2.ids[0]));
    assert!(
        !day1_ids.contains(&split[0].oneid),
        "retired ids are never reused"
    );
}

#[test]
fn fingerprints_are_fixed() {
    // Part of the storage format: these values may never change.
    assert_eq!(fingerprint(0, b""), 0);
    assert_eq!(
        fingerprint(0, b"13812345678"),
        fingerprint(0, b"13812345678")
    );
    assert_ne!(
        fingerprint(0, b"13812345678"),
        fingerprint(1, b"13812345678")
    );
    assert_ne!(fingerprint(0, b"ab"), fingerprint(0, b"ba"));
    assert_eq!(fingerprint(7, b"mj"), 150250230470323780);
    // Every length up to five words, ending anywhere in a word.
    let bytes: Vec<u8> = (0..40u8)
        .map(|i| i.wrapping_mul(97).wrapping_add(13))
        .collect();
    let all: Vec<u64> = (0..=40)
        .map(|n| fingerprint(n as u64, &bytes[..n]))
        .collect();
    assert_eq!(all, FIXED.to_vec());
}
const FIXED: [u64; 41] = [
    0,
    6870425296007938794,
    7904864902733366324,
    10169395349204058117,
    14760318396112651658,
    14701321415515216113,
    11649925183081347111,
    17985726809175070806,
    17300672044112598396,
    12449488384649468007,
    11194371703334167529,
    12235547494590049092,
    7194492689094692776,
    10345345167800687579,
    10183413238652339787,
    293059863268283891,
    16761094710343146459,
    7755892564120578123,
    3842319548199785508,
    4619911038243760813,
    14579073769125585069,
    1474602751590682621,
    986917099724133226,
    9227026991506674001,
    14968393456050440017,
    9909044713922380323,
    6376523902236473189,
    4618022956069688208,
    12875033895219520428,
    8415952487979793523,
    16553807628951047027,
    11318327935209933772,
    7374912426658338294,
    12004877553925306788,
    2381286882670567834,
    11129973969783795064,
    16736661831346825603,
    15552810145019193525,
    6363600007093294964,
    2572251533745907605,
    556646469727686004,
];

#[test]
fn rows_without_identifiers_stand_alone() {
    let mut b = Builder::new(rules());
    let a = b.add(1, "O1", &[(PHONE, "00000000000", None)]);
    let c = b.add(1, "O2", &[]);
    let again = b.add(1, "O1", &[]);
    let res = b.resolve();
    assert_ne!(res.record_of(a), res.record_of(c));
    assert_eq!(
        res.record_of(a),
        res.record_of(again),
        "the same row key is the same record"
    );
    assert!(!same(&res, a, c));
}

#[test]
fn strong_max_per_person_refuses_a_third_value() {
    let mut r = rules();
    r.identifiers[EMAIL].capacity = Some(2);
    let mut b = Builder::new(r);
    // One phone carries three e-mails; the person may hold two of them.
    let rows: Vec<u32> = ["a@x.cn", "b@x.cn", "c@x.cn"]
        .iter()
        .enumerate()
        .map(|(i, e)| {
            b.add(
                0,
                &format!("r{i}"),
                &[(PHONE, "13900000009", None), (EMAIL, e, None)],
            )
        })
        .collect();
    let res = b.resolve();
    let together = rows
        .iter()
        .filter(|&&x| same(&res, x, rows[0]) || same(&res, x, rows[1]))
        .count();
    assert_eq!(res.conflicts.len(), 1, "{:?}", res.conflicts);
    assert_eq!(res.components, 2);
    assert_eq!(together, 3);
}

#[test]
fn bucket_sort_agrees_with_a_plain_sort() {
    // Above the size where buckets are used.
    let mut items: Vec<(u64, u32)> = (0..200_000u32)
        .map(|i| (fingerprint(3, &(i % 150_000).to_le_bytes()), i))
        .collect();
    let mut expected = items.clone();
    expected.sort_unstable();
    radix_sort(&mut items);
    assert_eq!(items, expected);
}

/// Random rows over few values (so that capacities, junk, weak groups and cuts all
/// come into play): the fast path gives exactly what joining one by one gives.
#[test]
fn fast_path_agrees_with_joining_one_by_one() {
    let mut next = numbers(7);
    for round in 0..300 {
        let mut rules = rules();
        rules.identifiers[EMAIL].capacity = Some(2);
        rules.max_component = (round % 3 == 0).then_some(4);
        let rows = 5 + next(40);
        let spread = 2 + next(30);
        // (source, row key, (identifier, text) fields) per row.
        type Row = (u32, String, Vec<(usize, String)>);
        let mut data: Vec<Row> = Vec::new();
        for i in 0..rows {
            let texts = [
                format!("1390000{:04}", next(spread)),
                format!("u{}@x.cn", next(spread)),
                format!("M{}", next(spread)),
                String::new(),
                format!("d{}", next(spread)),
            ];
            let fields = texts
                .into_iter()
                .enumerate()
                .filter(|&(ident, _)| ident != OPENID && next(3) == 0)
                .collect();
            data.push((next(3) as u32, format!("k{i}"), fields));
        }
        let build = || {
            let mut b = Builder::new(rules.clone());
            for (source, key, fields) in &data {
                let fields: Vec<(usize, &str, Option<&str>)> =
                    fields.iter().map(|(i, t)| (*i, t.as_str(), None)).collect();
                b.add(*source, key, &fields);
            }
            b
        };
        let fast = build().resolve();
        let reference = build().resolve_one_by_one();
        assert_eq!(
            fast.record_component, reference.record_component,
            "round {round}"
        );
        assert_eq!(
            fast.value_component, reference.value_component,
            "round {round}"
        );
        let states = |r: &Resolution| r.values.iter().map(|v| v.state).collect::<Vec<_>>();
        assert_eq!(states(&fast), states(&reference), "round {round}");
        let conflicts = |r: &Resolution| {
            r.conflicts
                .iter()
                .map(|c| (c.identifier, c.value, c.record))
                .collect::<Vec<_>>()
        };
        assert_eq!(conflicts(&fast), conflicts(&reference), "round {round}");
        assert_eq!(fast.refused, reference.refused, "round {round}");
    }
}

type Row<'a> = (u32, Vec<(usize, &'a str, Option<&'a str>)>);

/// Six rows over three sources: one person by phone and member id, an e-mail alone.
fn six_rows() -> Vec<Row<'static>> {
    vec![
        (
            0,
            vec![(PHONE, "138 1234 5678", None), (MEMBER, "M1", None)],
        ),
        (1, vec![(PHONE, "13812345678", None)]),
        (2, vec![(DEVICE, "ipad", None), (MEMBER, "M1", None)]),
        (1, vec![(PHONE, "+86 13812345678", None)]),
        (2, vec![(DEVICE, "ipad", None)]),
        (0, vec![(EMAIL, " A@B.cn", None)]),
    ]
}

/// `rows`, numbered in order.
fn kept(rows: &[Row]) -> Kept {
    Kept(
        (0..)
            .zip(rows)
            .map(|(row, (_, fields))| (row, owned(fields)))
            .collect(),
    )
}

/// A builder given `rows` in order.
fn in_order(rows: &[Row]) -> Builder {
    let mut one = Builder::new(rules());
    for (source, fields) in rows {
        one.add(*source, "", fields);
    }
    one
}

/// Rows given run by run, out of order and split over a builder and a fork, resolve
/// as if added in order to one builder; a row number given twice is refused.
#[test]
fn rows_given_in_runs_in_any_order() {
    let mut rows = six_rows();
    rows.push((2, vec![(DEVICE, "tv", None)]));
    let one = in_order(&rows);
    let runs = |b: &mut Builder, runs: &[std::ops::Range<usize>]| {
        for run in runs {
            b.seek(run.start as u64);
            for (i, (source, fields)) in rows[run.clone()].iter().enumerate() {
                assert_eq!(b.add(*source, "", fields) as usize, run.start + i);
            }
        }
    };
    let mut first = Builder::new(rules());
    let mut second = first.fork();
    runs(&mut first, &[5..7, 1..3]);
    runs(&mut second, &[3..5, 0..1]);
    first.append(second);
    let (one, both) = (one.resolve(), first.resolve());
    assert_eq!(one.row_record, both.row_record);
    assert_eq!(one.record_component, both.record_component);
    assert_eq!(one.record_fps, both.record_fps);

    let mut twice = Builder::new(rules());
    runs(&mut twice, &[0..2, 1..3]);
    let refused = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| twice.resolve()));
    assert!(refused.is_err(), "row 1 was given twice and row 3 never");
}

/// Rows added to a fork and appended resolve as if added to one builder.
#[test]
fn forked_rows_append_in_order() {
    let mut rows = six_rows();
    let mut one = in_order(&rows);
    let mut first = Builder::new(rules());
    let mut second = first.fork();
    second.seek(2);
    for (i, (source, fields)) in rows.iter().enumerate() {
        let b = if i < 2 { &mut first } else { &mut second };
        b.add(*source, "", fields);
    }
    first.append(second);
    // Rows added after appending go after the fork's; this one repeats the first row.
    let again = vec![(MEMBER, "M1", None), (PHONE, "+86-138-1234-5678", None)];
    assert_eq!(one.add(0, "", &again), 6);
    assert_eq!(first.add(0, "", &again), 6);
    rows.push((0, again));
    let (one, both) = (one.resolve(), first.resolve());
    assert_eq!(both.row_record[6], both.row_record[0]);
    assert_eq!(one.row_record, both.row_record);
    assert_eq!(one.record_component, both.record_component);
    assert_eq!(one.record_fps, both.record_fps);
    let texts = |r: &Resolution| {
        let all: Vec<u32> = (0..r.values.len() as u32).collect();
        r.value_texts(&all, &kept(&rows))
    };
    assert_eq!(texts(&one), texts(&both));
    assert_eq!(texts(&both).len(), 4);
}

/// A value too long once normalized links nothing and is counted as unusable.
#[test]
fn overlong_values_are_unusable() {
    let long = "d".repeat(crate::MAX_VALUE_LEN + 1);
    let fits = "d".repeat(crate::MAX_VALUE_LEN);
    let mut b = Given::new(rules());
    b.add(0, "a", &[(DEVICE, &long, None)]);
    b.add(0, "b", &[(DEVICE, &long, None)]);
    b.add(1, "c", &[(DEVICE, &fits, None)]);
    b.add(1, "d", &[(DEVICE, &fits, None), (MEMBER, "M1", None)]);
    let (res, kept) = b.resolve();
    assert_eq!(res.unusable, 2);
    assert_eq!(res.row_links, 3);
    // The two rows without a usable value stand alone; the fitting value is kept whole.
    assert_ne!(res.row_record[0], res.row_record[1]);
    assert_eq!(res.values.len(), 2);
    let v = (0..2).find(|&v| res.value_text(v, &kept).len() == fits.len());
    assert!(v.is_some());
}

/// Rows repeating a record are recognized across the batches rows are looked up in,
/// and a new record keeps exactly its own values and texts.
#[test]
fn repeated_rows_across_lookup_batches() {
    let mut b = Given::new(rules());
    let mut expected: Vec<(u32, Vec<String>)> = Vec::new();
    for i in 0..1000u32 {
        let k = (i * 7919) % 97;
        let phone = format!("+86 138 0000 {:04}", k % 31);
        let device = format!("dev-{}", k % 5);
        let fields: Vec<(usize, &str, Option<&str>)> = if k % 3 == 0 {
            vec![(DEVICE, &device, None)]
        } else {
            vec![(PHONE, &phone, None), (DEVICE, &device, None)]
        };
        b.add(k % 2, "", &fields);
        let mut texts: Vec<String> = fields
            .iter()
            .map(|&(ident, raw, _)| {
                let rule = &rules().identifiers[ident];
                rule.normalizer.apply(raw).expect("usable").into_owned()
            })
            .collect();
        texts.sort();
        expected.push((k % 2, texts));
    }
    let (res, kept) = b.resolve();
    for i in 0..expected.len() {
        for j in 0..i {
            let same = expected[i] == expected[j];
            assert_eq!(
                res.row_record[i] == res.row_record[j],
                same,
                "rows {j} and {i}"
            );
        }
        let mut texts: Vec<String> = res
            .record_values(res.row_record[i])
            .iter()
            .map(|&v| res.value_text(v, &kept))
            .collect();
        texts.sort();
        assert_eq!(texts, expected[i].1, "row {i}");
    }
}

#[test]
fn personal_values_are_masked_with_their_shape_kept() {
    assert_eq!(mask("13812345678"), "138****5678");
    assert_eq!(mask("zhang.wei@163.com"), "z***@163.com");
    assert_eq!(
        mask("wx7d3f9a2c4e8b1605/o2Y4cQ81kq9k"),
        "wx7d3f9a2c4e8b1605/o2Y*****kq9k"
    );
    assert_eq!(mask("M00001234"), "M00**1234");
    assert_eq!(mask("abcdef"), "a****f");
    assert_eq!(mask("abcd"), "****");
    assert_eq!(mask("张三丰先生的手机"), "张三丰*生的手机");
}

/// What the SQL components engine computes, over [`Evidence`]'s public view: junk,
/// components over the usable values, and the components a guard could act on.
fn components_as_sql_finds_them(e: &Evidence) -> Components {
    let rules = e.rules().clone();
    let values = e.values();
    let junk: Vec<(u32, ValueState)> = (0..values.len() as u32)
        .filter_map(|v| {
            let value = &values[v as usize];
            if e.reject_fps().contains(&value.fingerprint) {
                Some((v, ValueState::Rejected))
            } else if rules
                .frequent_above
                .is_some_and(|n| u64::from(value.records) > n)
            {
                Some((v, ValueState::Frequent))
            } else {
                None
            }
        })
        .collect();
    let is_junk = |v: u32| junk.iter().any(|&(j, _)| j == v);
    let n = e.records();
    let mut uf = Uf::new(n);
    let mut first_of: FxHashMap<u32, u32> = FxHashMap::default();
    for r in 0..n as u32 {
        for &v in e.record_values(r) {
            if is_junk(v) {
                continue;
            }
            let f = *first_of.entry(v).or_insert(r);
            let (a, b) = (uf.find(f), uf.find(r));
            if a != b {
                uf.link(a, b);
            }
        }
    }
    let mut label = vec![u32::MAX; n];
    for r in 0..n {
        let root = uf.find(r as u32) as usize;
        if label[root] == u32::MAX {
            label[root] = r as u32;
        }
        label[r] = label[root];
    }
    // Per component: records, distinct values per identifier, whether weak.
    let mut size: FxHashMap<u32, u64> = FxHashMap::default();
    let mut per_ident: FxHashMap<(u32, u16), Vec<u32>> = FxHashMap::default();
    for r in 0..n as u32 {
        let c = label[r as usize];
        *size.entry(c).or_default() += 1;
        for &v in e.record_values(r) {
            if !is_junk(v) {
                per_ident
                    .entry((c, values[v as usize].identifier))
                    .or_default()
                    .push(v);
            }
        }
    }
    let mut flagged: Vec<u32> = Vec::new();
    let mut weak_in: Vec<u32> = Vec::new();
    let mut multi_in: Vec<u32> = Vec::new();
    for ((c, ident), mut vs) in per_ident {
        vs.sort_unstable();
        vs.dedup();
        let rule = &rules.identifiers[ident as usize];
        if rule.capacity.is_some_and(|cap| vs.len() as u32 > cap) {
            flagged.push(c);
        }
        if rule.weak {
            weak_in.push(c);
        } else if vs.len() > 1 {
            multi_in.push(c);
        }
    }
    flagged.extend(weak_in.iter().filter(|c| multi_in.contains(c)));
    if let Some(max) = rules.max_component {
        flagged.extend(size.iter().filter(|&(_, &s)| s > max).map(|(&c, _)| c));
    }
    flagged.sort_unstable();
    flagged.dedup();
    Components {
        junk,
        label,
        flagged,
    }
}

#[test]
fn components_found_elsewhere_give_the_union_finds_people() {
    let mut next = numbers(11);
    let mut exact_somewhere = 0;
    for round in 0..300 {
        let mut rules = rules();
        rules.identifiers[EMAIL].capacity = Some(2);
        rules.max_component = (round % 3 == 0).then_some(4);
        let rows = 5 + next(60);
        let spread = 2 + next(40);
        let mut data: Vec<(u32, String, Vec<(usize, String, Option<String>)>)> = Vec::new();
        for i in 0..rows {
            let texts = [
                format!("1390000{:04}", next(spread)),
                format!("u{}@x.cn", next(spread)),
                format!("M{}", next(spread)),
                format!("o{}", next(spread)),
                format!("d{}", next(spread)),
            ];
            let mut fields = Vec::new();
            for (ident, t) in texts.into_iter().enumerate() {
                if next(3) == 0 {
                    let scope = (ident == OPENID).then(|| format!("app{}", next(2)));
                    fields.push((ident, t, scope));
                }
            }
            data.push((next(3) as u32, format!("k{i}"), fields));
        }
        let build = || {
            let mut b = Builder::new(rules.clone());
            for (source, key, fields) in &data {
                let fields: Vec<(usize, &str, Option<&str>)> = fields
                    .iter()
                    .map(|(i, t, s)| (*i, t.as_str(), s.as_deref()))
                    .collect();
                b.add(*source, key, &fields);
            }
            b
        };
        let whole = build().resolve();
        let evidence = build().evidence();
        let found = components_as_sql_finds_them(&evidence);
        let (parts, exact) = evidence.resolve(found);
        exact_somewhere += u64::from(exact > 0);
        assert_eq!(
            whole.record_component, parts.record_component,
            "round {round}"
        );
        assert_eq!(whole.components, parts.components, "round {round}");
        assert_eq!(
            whole.value_component, parts.value_component,
            "round {round}"
        );
        let states = |r: &Resolution| r.values.iter().map(|v| v.state).collect::<Vec<_>>();
        assert_eq!(states(&whole), states(&parts), "round {round}");
        let conflicts = |r: &Resolution| {
            let mut c: Vec<_> = r
                .conflicts
                .iter()
                .map(|c| (c.identifier, c.value, c.record))
                .collect();
            c.sort_unstable();
            c
        };
        assert_eq!(conflicts(&whole), conflicts(&parts), "round {round}");
        let mut refused = whole.refused.clone();
        refused.sort_unstable_by_key(|&(v, _)| v);
        assert_eq!(refused, parts.refused, "round {round}");
        assert_eq!(whole.joins(), parts.joins(), "round {round}");
    }
    // Both paths are taken: components resolved exactly, and components taken whole.
    assert!(
        exact_somewhere > 30,
        "{exact_somewhere} rounds resolved some records here"
    );
}

/// Numbers below `n`, a fixed sequence from `seed` (a linear congruential generator).
fn numbers(mut seed: u64) -> impl FnMut(u64) -> u64 {
    move |n: u64| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) % n
    }
}
