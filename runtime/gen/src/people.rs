//! Households and what their members leave behind in each source.
//!
//! Household `k` holds persons `2k` and `2k + 1` and draws everything from its own
//! random stream, so a household's rows do not depend on any other household's.
//! Rows carry numbers (person, device, member, time); text is made when they are
//! written.

use std::ops::Range;

use chrono::NaiveDate;

use crate::ids::{ANON_DEVICES, PhoneStyle, mistype};
use crate::rng::Draw;
use crate::world::{
    CATEGORIES, CHANNEL_WEIGHTS, EVENT_WEIGHTS, GENDER_WEIGHTS, ITEM_EVENTS, LEVEL_WEIGHTS,
    PLATFORM_WEIGHTS, STYLE_WEIGHTS, World,
};

/// How a phone field of an order is filled.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Phone {
    /// The person's own phone.
    Own(u64, PhoneStyle),
    /// One of [`crate::ids::JUNK_PHONES`].
    Junk(usize),
    /// The person's phone with one digit mistyped: `mistype(phone, pos, by)`.
    Typo {
        phone: u64,
        pos: u32,
        by: u64,
        style: PhoneStyle,
    },
}

pub(crate) struct MemberRow {
    pub person: u64,
    pub member: u64,
    pub phone: Option<(u64, PhoneStyle)>,
    pub email: Option<String>,
    pub gender: u8,
    pub birthday: NaiveDate,
    pub place: u32,
    pub level: u8,
    pub joined: NaiveDate,
    pub joined_second: u32,
}

pub(crate) struct OrderRow {
    pub person: u64,
    pub member: Option<u64>,
    pub phone: Option<Phone>,
    pub store: u32,
    pub channel: u8,
    pub category: u8,
    pub cents: i64,
    pub qty: u8,
    pub refunded: bool,
    /// Seconds from the window's start.
    pub ts: u32,
}

pub(crate) struct EventRow {
    pub person: u64,
    pub device: u64,
    pub member: Option<u64>,
    /// Index into [`crate::world::APPIDS`] for mini-program events.
    pub app: Option<u8>,
    pub event: u8,
    pub style: Option<u8>,
    /// Category × 10 000 + item number.
    pub item: Option<u32>,
    pub at: Option<(f64, f64)>,
    pub ts: u32,
}

pub(crate) struct TouchRow {
    /// `None` for audiences that are nobody.
    pub person: Option<u64>,
    pub device: u64,
    pub click: bool,
    pub campaign: u16,
    pub ts: u32,
}

/// The rows of a run of households, in the order they are written.
#[derive(Default)]
pub(crate) struct Rows {
    pub members: Vec<MemberRow>,
    pub orders: Vec<OrderRow>,
    pub events: Vec<EventRow>,
    /// One list per platform.
    pub touches: [Vec<TouchRow>; 4],
}

/// Persons living together share their home; some share a family iPad.
const COUPLE: f64 = 0.35;
/// About 3% of households (a couple is one household, two singles are two).
const SHARED_IPAD: f64 = 0.14;
const MEMBER: f64 = 0.60;
const HAS_EMAIL: f64 = 0.50;
const SECOND_DEVICE: f64 = 0.40;
/// Home drawn at a store's place (otherwise anywhere, by the places' weights).
const HOME_AT_STORE: f64 = 0.85;

const ORDERS_PER_YEAR: f64 = 2.0;
const EVENTS_PER_YEAR: f64 = 8.0;
const TOUCHES_PER_YEAR: f64 = 10.0;
/// Share of media rows from devices that are nobody.
const ANONYMOUS_SHARE: f64 = 0.30;
/// Touches per anonymous device: 1 and a geometric rest of this mean.
const ANON_EXTRA_TOUCHES: f64 = 2.0;

const ORDER_MEMBER_CARD: f64 = 0.70;
const ORDER_PHONE_IN_STORE: f64 = 0.85;
const ORDER_PHONE_ONLINE: f64 = 0.98;
const ORDER_JUNK_PHONE: f64 = 0.005;
const ORDER_TYPO_PHONE: f64 = 0.01;
const REFUNDED: f64 = 0.06;

const LOGGED_IN: f64 = 0.30;
const MINI_PROGRAM: f64 = 0.40;
const LOCATED: f64 = 0.70;

const CLICK: f64 = 0.07;

/// Phone styles in POS orders and in the CRM.
const POS_STYLES: [u32; 8] = [50, 8, 6, 10, 5, 8, 8, 5];
const CRM_STYLES: [u32; 8] = [75, 10, 0, 5, 0, 5, 5, 0];

const SURNAMES: [&str; 24] = [
    "wang", "li", "zhang", "liu", "chen", "yang", "huang", "zhao", "wu", "zhou", "xu", "sun", "ma",
    "zhu", "hu", "guo", "he", "lin", "luo", "gao", "zheng", "liang", "xie", "tang",
];
const GIVEN: [&str; 30] = [
    "wei", "fang", "na", "min", "jing", "li", "qiang", "lei", "jun", "yang", "yong", "yan", "jie",
    "tao", "ming", "chao", "xiu", "xia", "hui", "hong", "ping", "gang", "lin", "ying", "hua", "yu",
    "ting", "qian", "xin", "yue",
];
const MAIL_DOMAINS: [&str; 9] = [
    "163.com",
    "126.com",
    "sina.com",
    "gmail.com",
    "hotmail.com",
    "outlook.com",
    "foxmail.com",
    "yeah.net",
    "icloud.com",
];
const MAIL_DOMAIN_WEIGHTS: [u32; 9] = [30, 15, 8, 8, 6, 8, 10, 5, 10];

struct Person {
    p: u64,
    member: Option<u64>,
    /// Own devices (one or two), then the family iPad if shared.
    devices: Vec<u64>,
    ipad: Option<u64>,
    place: u32,
    store: u32,
    lat: f64,
    lon: f64,
    style: u8,
    category: u8,
    platform: u8,
}

/// The rows of households `households`, shuffled within the run so that rows of
/// one person are not neighbours.
pub(crate) fn chunk(world: &World, households: Range<u64>, index: u64) -> Rows {
    let mut rows = Rows::default();
    for k in households {
        household(world, k, &mut rows);
    }
    let mut d = world.streams.chunk(index);
    d.shuffle(&mut rows.members);
    d.shuffle(&mut rows.orders);
    d.shuffle(&mut rows.events);
    for t in &mut rows.touches {
        d.shuffle(t);
    }
    rows
}

fn household(world: &World, k: u64, rows: &mut Rows) {
    let mut d = world.streams.household(k);
    let p0 = 2 * k;
    let p1 = (p0 + 1 < world.consumers).then_some(p0 + 1);
    let couple = p1.is_some() && d.chance(COUPLE);
    let ipad = (couple && d.chance(SHARED_IPAD)).then_some(p0 * 4 + 2);
    let home = choose_home(world, &mut d);
    let first = person(world, &mut d, p0, home, ipad);
    let second = p1.map(|p1| {
        let home = if couple {
            home
        } else {
            choose_home(world, &mut d)
        };
        person(world, &mut d, p1, home, ipad)
    });
    for person in std::iter::once(&first).chain(second.as_ref()) {
        if let Some(member) = person.member {
            rows.members.push(member_row(world, &mut d, person, member));
        }
        orders(world, &mut d, person, rows);
        events(world, &mut d, person, rows);
        touches(world, &mut d, person, rows);
    }
    anonymous(world, &mut d, k, p1.is_some(), rows);
}

/// A home place and the store its people go to.
fn choose_home(world: &World, d: &mut Draw) -> (u32, u32) {
    let stores = &world.stores;
    if d.chance(HOME_AT_STORE) {
        let s = d.below(stores.stores.len() as u64) as u32;
        (stores.stores[s as usize].place, s)
    } else {
        let place = d.cumulative(&world.place_weights) as u32;
        let here = &stores.at_place[place as usize];
        let s = if here.is_empty() {
            stores.nearest[place as usize]
        } else {
            *d.pick(here)
        };
        (place, s)
    }
}

fn person(world: &World, d: &mut Draw, p: u64, home: (u32, u32), ipad: Option<u64>) -> Person {
    let member = d.chance(MEMBER).then(|| world.keys.member(p));
    let mut devices = vec![p * 4];
    if d.chance(SECOND_DEVICE) {
        devices.push(p * 4 + 1);
    }
    let place = &world.places[home.0 as usize];
    // Where in the district the person lives (about 3 km either way).
    let lat = place.lat + 0.03 * d.normal();
    let lon = place.lon + 0.03 * d.normal() / place.lat.to_radians().cos().max(0.2);
    Person {
        p,
        member,
        devices,
        ipad,
        place: home.0,
        store: home.1,
        lat,
        lon,
        style: d.weighted(&STYLE_WEIGHTS) as u8,
        category: d.weighted(&category_weights()) as u8,
        platform: d.weighted(&PLATFORM_WEIGHTS) as u8,
    }
}

fn category_weights() -> [u32; CATEGORIES.len()] {
    let mut w = [0; CATEGORIES.len()];
    for (w, c) in w.iter_mut().zip(&CATEGORIES) {
        *w = c.weight;
    }
    w
}

fn style_of(d: &mut Draw, weights: &[u32]) -> PhoneStyle {
    PhoneStyle::ALL[d.weighted(weights)]
}

fn member_row(world: &World, d: &mut Draw, person: &Person, member: u64) -> MemberRow {
    let phone = world.keys.phone(person.p);
    let phone = d.chance(0.97).then(|| (phone, style_of(d, &CRM_STYLES)));
    let email = d.chance(HAS_EMAIL).then(|| email(world, d, person.p));
    let age = (36.0 + 9.0 * d.normal()).clamp(20.0, 70.0);
    let days_back = (age * 365.25) as u64 + d.below(365);
    let birthday = world
        .end
        .checked_sub_days(chrono::Days::new(days_back))
        .unwrap_or(world.end);
    let joined = world
        .end
        .checked_sub_days(chrono::Days::new(d.below(6 * 365)))
        .unwrap_or(world.end);
    MemberRow {
        person: person.p,
        member,
        phone,
        email,
        gender: d.weighted(&GENDER_WEIGHTS) as u8,
        birthday,
        place: person.place,
        level: d.weighted(&LEVEL_WEIGHTS) as u8,
        joined,
        joined_second: (9 + d.below(13) as u32) * 3600 + d.below(3600) as u32,
    }
}

/// The person's e-mail address as typed into the CRM: unique per person, in some
/// rows with capitals or spaces around.
fn email(world: &World, d: &mut Draw, p: u64) -> String {
    let mut e = if d.chance(0.35) {
        format!("{}@qq.com", world.keys.qq(p))
    } else {
        let s = *d.pick(&SURNAMES);
        let g = *d.pick(&GIVEN);
        let n = world.keys.email_number(p);
        let domain = MAIL_DOMAINS[d.weighted(&MAIL_DOMAIN_WEIGHTS)];
        match d.below(4) {
            0 => format!("{s}{g}{n}@{domain}"),
            1 => format!("{g}.{s}{n}@{domain}"),
            2 => format!("{s}_{g}{n}@{domain}"),
            _ => format!("{}{}{n}@{domain}", &s[..1], &g[..1]),
        }
    };
    if d.chance(0.12) {
        e = e
            .chars()
            .map(|c| {
                if c.is_ascii_lowercase() && d.chance(0.4) {
                    c.to_ascii_uppercase()
                } else {
                    c
                }
            })
            .collect();
    }
    if d.chance(0.08) {
        e = match d.below(3) {
            0 => format!(" {e}"),
            1 => format!("{e} "),
            _ => format!("  {e} "),
        };
    }
    e
}

fn orders(world: &World, d: &mut Draw, person: &Person, rows: &mut Rows) {
    let z = d.normal();
    // A gamma(1/2) rate: most people buy nothing in a year, a few buy a lot.
    let n = d.poisson(ORDERS_PER_YEAR * world.scale * z * z).min(40);
    let phone = world.keys.phone(person.p);
    let cats = category_weights();
    for _ in 0..n {
        let channel = d.weighted(&CHANNEL_WEIGHTS) as u8;
        let in_store = channel == 0;
        let store = if in_store && d.chance(0.15) {
            d.below(world.stores.stores.len() as u64) as u32
        } else {
            person.store
        };
        let category = if d.chance(0.4) {
            person.category
        } else {
            d.weighted(&cats) as u8
        };
        let c = &CATEGORIES[category as usize];
        let qty = 1 + if c.bulky {
            d.weighted(&[90, 8, 2, 0, 0])
        } else {
            d.weighted(&[55, 22, 12, 6, 5])
        } as u8;
        let unit = c.price * (0.55 * d.normal()).exp();
        let mut yuan = (unit * f64::from(qty)).round();
        if yuan >= 100.0 {
            yuan = (yuan / 10.0).round() * 10.0 - if d.chance(0.4) { 1.0 } else { 0.0 };
        }
        let yuan = yuan.clamp(50.0, 50_000.0) as i64;
        let mut cents = yuan * 100;
        if yuan > 50 && d.chance(0.1) {
            cents -= d.between(1, 99) as i64;
        }
        let member = person.member.filter(|_| d.chance(ORDER_MEMBER_CARD));
        let has_phone = d.chance(if in_store {
            ORDER_PHONE_IN_STORE
        } else {
            ORDER_PHONE_ONLINE
        });
        let phone = has_phone.then(|| {
            let r = d.unit();
            if r < ORDER_JUNK_PHONE {
                Phone::Junk(d.below(2) as usize)
            } else if r < ORDER_JUNK_PHONE + ORDER_TYPO_PHONE {
                Phone::Typo {
                    phone,
                    pos: d.between(3, 10) as u32,
                    by: d.between(1, 9),
                    style: style_of(d, &POS_STYLES),
                }
            } else {
                Phone::Own(phone, style_of(d, &POS_STYLES))
            }
        });
        rows.orders.push(OrderRow {
            person: person.p,
            member,
            phone,
            store,
            channel,
            category,
            cents,
            qty,
            refunded: d.chance(REFUNDED),
            ts: world.order_time(d, in_store),
        });
    }
}

/// An item of a category; low numbers are the best sellers.
fn item(d: &mut Draw, category: u8) -> u32 {
    let u = d.unit();
    u32::from(category) * 10_000 + (u * u * 300.0) as u32
}

fn device_of(d: &mut Draw, person: &Person, ipad_share: f64) -> u64 {
    match person.ipad {
        Some(ipad) if d.chance(ipad_share) => ipad,
        _ if person.devices.len() > 1 && d.chance(0.2) => person.devices[1],
        _ => person.devices[0],
    }
}

fn events(world: &World, d: &mut Draw, person: &Person, rows: &mut Rows) {
    let rate = EVENTS_PER_YEAR * world.scale * d.exponential();
    let mut n = d.poisson(rate).min(80);
    if person.ipad.is_some() {
        // The family iPad is there because the family shops on it.
        n = n.max(1);
    }
    let cats = category_weights();
    for i in 0..n {
        let device = match person.ipad {
            Some(ipad) if i == 0 => ipad,
            _ => device_of(d, person, 0.25),
        };
        let app = d.chance(MINI_PROGRAM).then(|| u8::from(!d.chance(0.7)));
        let member = person.member.filter(|_| d.chance(LOGGED_IN));
        let event = d.weighted(&EVENT_WEIGHTS) as u8;
        let style = d.chance(0.9).then(|| {
            if d.chance(0.6) {
                person.style
            } else {
                d.weighted(&STYLE_WEIGHTS) as u8
            }
        });
        let item = ITEM_EVENTS[event as usize].then(|| {
            let c = if d.chance(0.5) {
                person.category
            } else {
                d.weighted(&cats) as u8
            };
            item(d, c)
        });
        let at = d.chance(LOCATED).then(|| {
            (
                person.lat + 0.002 * d.normal(),
                person.lon + 0.002 * d.normal(),
            )
        });
        rows.events.push(EventRow {
            person: person.p,
            device,
            member,
            app,
            event,
            style,
            item,
            at,
            ts: world.browse_time(d),
        });
    }
}

fn touches(world: &World, d: &mut Draw, person: &Person, rows: &mut Rows) {
    let rate = TOUCHES_PER_YEAR * world.scale * d.exponential();
    let n = d.poisson(rate).min(100);
    for _ in 0..n {
        let device = device_of(d, person, 0.2);
        let platform = if d.chance(0.5) {
            person.platform
        } else {
            d.weighted(&PLATFORM_WEIGHTS) as u8
        };
        push_touch(world, d, rows, Some(person.p), device, platform);
    }
}

fn push_touch(
    world: &World,
    d: &mut Draw,
    rows: &mut Rows,
    person: Option<u64>,
    device: u64,
    platform: u8,
) {
    let ts = world.browse_time(d);
    let campaign = world.campaign(d, (ts / 86_400) as usize);
    rows.touches[platform as usize].push(TouchRow {
        person,
        device,
        click: d.chance(CLICK),
        campaign,
        ts,
    });
}

/// Media audiences that are nobody in the data: devices never seen anywhere else.
fn anonymous(world: &World, d: &mut Draw, k: u64, two: bool, rows: &mut Rows) {
    let persons = if two { 2.0 } else { 1.0 };
    let person_touches = persons * TOUCHES_PER_YEAR * world.scale;
    let anon_touches = person_touches * ANONYMOUS_SHARE / (1.0 - ANONYMOUS_SHARE);
    let devices = d.poisson(anon_touches / (1.0 + ANON_EXTRA_TOUCHES)).min(64);
    for j in 0..devices {
        let device = ANON_DEVICES + k * 64 + j;
        let home = d.weighted(&PLATFORM_WEIGHTS) as u8;
        let mut n = 1;
        while n < 30 && d.chance(ANON_EXTRA_TOUCHES / (1.0 + ANON_EXTRA_TOUCHES)) {
            n += 1;
        }
        for _ in 0..n {
            let platform = if d.chance(0.8) {
                home
            } else {
                d.weighted(&PLATFORM_WEIGHTS) as u8
            };
            push_touch(world, d, rows, None, device, platform);
        }
    }
}

/// The digits a mistyped phone ends up with, given the ones already used: the next
/// position is tried while the result is junk or another order's typo.
pub(crate) fn resolve_typo(
    phone: u64,
    pos: u32,
    by: u64,
    taken: &mut std::collections::HashSet<u64>,
) -> Option<u64> {
    for attempt in 0..72u32 {
        let pos = 3 + (pos - 3 + attempt) % 8;
        let by = 1 + (by - 1 + u64::from(attempt / 8)) % 9;
        let t = mistype(phone, pos, by);
        if t != 13_800_000_000 && taken.insert(t) {
            return Some(t);
        }
    }
    None
}
