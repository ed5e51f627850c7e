//! What every household is drawn from: places and stores, the calendar of the
//! window, the catalogue, the identifier schemes.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate, Weekday};

use crate::ids::{Keys, MAX_PERSONS};
use crate::places::{self, Place, Stores};
use crate::rng::{Draw, STORE_STREAM, Streams};
use crate::{GenConfig, GenError};

/// One product category of the ERP.
pub(crate) struct Category {
    pub code: &'static str,
    pub name: &'static str,
    pub line: &'static str,
    /// Median unit price in CNY.
    pub price: f64,
    /// How often it is bought.
    pub weight: u32,
    /// Furniture bought one at a time.
    pub bulky: bool,
}

const fn cat(
    code: &'static str,
    name: &'static str,
    line: &'static str,
    price: f64,
    weight: u32,
    bulky: bool,
) -> Category {
    Category {
        code,
        name,
        line,
        price,
        weight,
        bulky,
    }
}

pub(crate) const CATEGORIES: [Category; 14] = [
    cat("sofa", "沙发", "客厅", 6800.0, 14, true),
    cat("tea_table", "茶几", "客厅", 1800.0, 7, true),
    cat("tv_cabinet", "电视柜", "客厅", 2500.0, 5, true),
    cat("bed", "床", "卧室", 4500.0, 11, true),
    cat("mattress", "床垫", "卧室", 3200.0, 11, true),
    cat("wardrobe", "衣柜", "卧室", 7500.0, 6, true),
    cat("bedding", "床品", "卧室", 600.0, 9, false),
    cat("dining_table", "餐桌", "餐厅", 3500.0, 7, true),
    cat("dining_chair", "餐椅", "餐厅", 700.0, 6, false),
    cat("desk", "书桌", "书房", 1800.0, 4, true),
    cat("bookcase", "书柜", "书房", 2200.0, 3, true),
    cat("lamp", "灯具", "软装", 450.0, 7, false),
    cat("curtain", "窗帘", "软装", 900.0, 5, false),
    cat("carpet", "地毯", "软装", 1200.0, 5, false),
];

pub(crate) const CHANNELS: [&str; 5] = ["store", "tmall", "jd", "wechat_mall", "douyin_shop"];
pub(crate) const CHANNEL_WEIGHTS: [u32; 5] = [55, 15, 10, 12, 8];
/// Order ids start with the channel's code.
pub(crate) const CHANNEL_PREFIX: [&str; 5] = ["POS", "TM", "JD", "WX", "DY"];

pub(crate) const EVENTS: [&str; 7] = [
    "view",
    "view_item",
    "search",
    "favorite",
    "add_cart",
    "share",
    "consult",
];
pub(crate) const EVENT_WEIGHTS: [u32; 7] = [38, 25, 8, 8, 8, 5, 8];
/// Events about one item (they carry `item_id`).
pub(crate) const ITEM_EVENTS: [bool; 7] = [false, true, false, true, true, true, true];

pub(crate) const STYLES: [&str; 6] = ["现代简约", "北欧", "新中式", "轻奢", "日式", "美式"];
pub(crate) const STYLE_WEIGHTS: [u32; 6] = [30, 22, 18, 14, 10, 6];

/// The brand's two WeChat mini-programs: the mall and the design showroom.
pub(crate) const APPIDS: [&str; 2] = ["wx7d3f9a2c4e8b1605", "wx2b8e6c1f0a9d4737"];

pub(crate) const PLATFORMS: [&str; 4] = ["douyin", "wechat", "weibo", "toutiao"];
pub(crate) const PLATFORM_WEIGHTS: [u32; 4] = [35, 30, 12, 23];
pub(crate) const PLATFORM_PREFIX: [&str; 4] = ["dy", "wx", "wb", "tt"];

pub(crate) const GENDERS: [&str; 3] = ["女", "男", "未知"];
pub(crate) const GENDER_WEIGHTS: [u32; 3] = [56, 40, 4];

pub(crate) const LEVELS: [&str; 5] = ["普通会员", "银卡会员", "金卡会员", "铂金会员", "钻石会员"];
pub(crate) const LEVEL_WEIGHTS: [u32; 5] = [55, 25, 12, 6, 2];

/// Activity by hour of day: browsing, online orders and store visits.
pub(crate) const ONLINE_HOURS: [u32; 24] = [
    3, 2, 1, 1, 1, 1, 2, 4, 6, 7, 7, 8, 9, 8, 7, 7, 7, 7, 8, 11, 13, 14, 11, 6,
];
pub(crate) const STORE_HOURS: [u32; 24] = [
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 5, 4, 4, 6, 7, 7, 6, 5, 6, 5, 2, 0, 0,
];

/// A festival: its name and first and last (month, day).
type Season = (&'static str, (u32, u32), (u32, u32));

const SEASONS: [Season; 4] = [
    ("年货焕新节", (1, 5), (1, 25)),
    ("618家装节", (5, 20), (6, 18)),
    ("双11焕新季", (10, 20), (11, 11)),
    ("双12家居节", (12, 1), (12, 12)),
];
const EVERGREEN: [&str; 7] = [
    "品牌曝光-常规",
    "沙发节",
    "北欧风新品季",
    "新中式卧室专场",
    "睡眠节-床垫",
    "全屋软装体验周",
    "同城门店到店礼",
];

pub(crate) struct World {
    pub consumers: u64,
    pub days: u32,
    /// `days / 365`: volumes are per year.
    pub scale: f64,
    pub end: NaiveDate,
    /// Seconds from 1970-01-01 00:00:00 to the window's first second.
    pub start_epoch: i64,
    pub places: Vec<Place>,
    pub stores: Stores,
    pub place_weights: Vec<f64>,
    pub keys: Keys,
    pub streams: Streams,
    /// `YYYY-MM-DD` and `YYYYMMDD` of each day of the window.
    pub day_text: Vec<String>,
    pub day_compact: Vec<String>,
    pub day_year: Vec<i32>,
    /// Cumulative weights of the days for orders (weekends and shopping festivals).
    pub order_days: Vec<f64>,
    pub campaigns: Vec<String>,
    /// For each day: its festival campaign, if any, and the always-on campaigns.
    pub day_campaigns: Vec<(Option<u16>, Vec<u16>)>,
}

/// The longest window.
pub(crate) const MAX_DAYS: u32 = 36_500;

impl World {
    pub(crate) fn new(cfg: &GenConfig) -> Result<World, GenError> {
        if cfg.days == 0 || cfg.days > MAX_DAYS {
            return Err(GenError::new(format!(
                "days must be between 1 and {MAX_DAYS}, not {}",
                cfg.days
            )));
        }
        if cfg.consumers > MAX_PERSONS {
            return Err(GenError::new(format!(
                "at most {MAX_PERSONS} consumers, not {}",
                cfg.consumers
            )));
        }
        let start = cfg
            .end
            .checked_sub_days(chrono::Days::new(u64::from(cfg.days - 1)))
            .ok_or_else(|| GenError::new("the window starts before the calendar does"))?;
        if cfg.end.year() > 9999 || start.year() < 1900 {
            return Err(GenError::new(format!(
                "the window {start} to {} is out of range",
                cfg.end
            )));
        }
        let start_epoch = start
            .and_hms_opt(0, 0, 0)
            .map(|t| t.and_utc().timestamp())
            .unwrap_or(0);
        let places = places::load(cfg.places.as_deref())?;
        let streams = Streams::new(cfg.seed);
        let mut store_draw: Draw = streams.stream(STORE_STREAM);
        let stores =
            places::place_stores(&places, places::store_count(cfg.consumers), &mut store_draw);
        let place_weights = places::cumulative(places.iter().map(|p| p.weight));

        let mut day_text = Vec::with_capacity(cfg.days as usize);
        let mut day_compact = Vec::with_capacity(cfg.days as usize);
        let mut day_year = Vec::with_capacity(cfg.days as usize);
        let mut order_weights = Vec::with_capacity(cfg.days as usize);
        let mut campaigns: Vec<String> = Vec::new();
        let mut campaign_ids: BTreeMap<String, u16> = BTreeMap::new();
        let mut intern = |name: String| -> u16 {
            *campaign_ids.entry(name).or_insert_with_key(|name| {
                campaigns.push(name.clone());
                (campaigns.len() - 1) as u16
            })
        };
        let mut day_campaigns = Vec::with_capacity(cfg.days as usize);
        for date in start.iter_days().take(cfg.days as usize) {
            let (y, m, d) = (date.year(), date.month(), date.day());
            day_text.push(date.format("%Y-%m-%d").to_string());
            day_compact.push(date.format("%Y%m%d").to_string());
            day_year.push(y);
            let mut w = match date.weekday() {
                Weekday::Sat | Weekday::Sun => 1.4,
                _ => 1.0,
            };
            if (m, d) == (11, 11) {
                w *= 5.0;
            } else if (m, d) == (6, 18) || (m, d) == (12, 12) {
                w *= 3.0;
            } else if (m == 11 && d < 11) || (m == 6 && d < 18) {
                w *= 1.8;
            }
            order_weights.push(w);
            let season = SEASONS
                .iter()
                .find(|(_, from, to)| (m, d) >= *from && (m, d) <= *to)
                .map(|(name, _, _)| intern(format!("{y}{name}")));
            let evergreen = EVERGREEN
                .iter()
                .map(|name| intern(format!("{y}{name}")))
                .collect();
            day_campaigns.push((season, evergreen));
        }
        let order_days = places::cumulative(order_weights.into_iter());
        Ok(World {
            consumers: cfg.consumers,
            days: cfg.days,
            scale: f64::from(cfg.days) / 365.0,
            end: cfg.end,
            start_epoch,
            places,
            stores,
            place_weights,
            keys: Keys::new(cfg.seed, cfg.consumers),
            streams,
            day_text,
            day_compact,
            day_year,
            order_days,
            campaigns,
            day_campaigns,
        })
    }

    /// A moment of the window (seconds from its start) when people browse.
    pub(crate) fn browse_time(&self, d: &mut Draw) -> u32 {
        let day = d.below(u64::from(self.days)) as u32;
        let hour = d.weighted(&ONLINE_HOURS) as u32;
        day * 86_400 + hour * 3600 + d.below(3600) as u32
    }

    /// A moment of the window when an order is paid.
    pub(crate) fn order_time(&self, d: &mut Draw, in_store: bool) -> u32 {
        let day = d.cumulative(&self.order_days) as u32;
        let hours: &[u32; 24] = if in_store {
            &STORE_HOURS
        } else {
            &ONLINE_HOURS
        };
        let hour = d.weighted(hours) as u32;
        day * 86_400 + hour * 3600 + d.below(3600) as u32
    }

    /// The campaign a touch on day `day` belongs to.
    pub(crate) fn campaign(&self, d: &mut Draw, day: usize) -> u16 {
        let (season, evergreen) = &self.day_campaigns[day];
        match season {
            Some(s) if d.chance(0.6) => *s,
            _ => *d.pick(evergreen),
        }
    }
}
