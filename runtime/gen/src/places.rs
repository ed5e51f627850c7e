//! Real places (from `adcodes.csv`) and the stores placed at them.

use std::path::Path;

use crate::GenError;
use crate::rng::Draw;

/// A district, county or city with coordinates.
#[derive(Clone, Debug)]
pub(crate) struct Place {
    pub adcode: String,
    pub name: String,
    pub lon: f64,
    pub lat: f64,
    /// The coordinates as written in the file, written back unchanged.
    pub lon_text: String,
    pub lat_text: String,
    /// How likely a store or a home is here, before stores are placed.
    pub weight: f64,
    /// An urban district (`…区`).
    pub urban: bool,
}

/// Prefectures (first four adcode digits) of the largest cities.
const TIER1: [&str; 4] = ["1101", "3101", "4401", "4403"];
const TIER2: [&str; 30] = [
    "5001", "5101", "3301", "4201", "3201", "1201", "6101", "3205", "4301", "4101", "3702", "2101",
    "4419", "4406", "3302", "3502", "3501", "5301", "3401", "2201", "2301", "1301", "1401", "3601",
    "3701", "4501", "5201", "6201", "6501", "2102",
];

/// The place list the project carries (`runtime/gen/data/adcodes.csv`, from `cpca`, MIT):
/// compiled in, so generating needs no file beside the binary.
pub const BUNDLED: &str = include_str!("../data/adcodes.csv");

/// Reads the places of `path`, or the bundled list when there is none.
pub(crate) fn load(path: Option<&Path>) -> Result<Vec<Place>, GenError> {
    match path {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                GenError::new(format!("cannot read places {}: {e}", path.display()))
            })?;
            parse(&text, &path.display().to_string())
        }
        None => parse(BUNDLED, "the bundled adcodes.csv"),
    }
}

/// Parses `adcode,name,longitude,latitude` rows; rows without coordinates are skipped.
/// Places are ordered by adcode, so the file's row order does not matter. `name` names
/// the list in errors.
pub(crate) fn parse(text: &str, name: &str) -> Result<Vec<Place>, GenError> {
    let mut places = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim_start_matches('\u{feff}').trim_end_matches('\r');
        if line.is_empty() || (i == 0 && line.starts_with("adcode")) {
            continue;
        }
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        let [adcode, name, lon_text, lat_text] = fields[..] else {
            return Err(GenError::new(format!(
                "{name}:{}: expected adcode,name,longitude,latitude",
                i + 1
            )));
        };
        let (Ok(lon), Ok(lat)) = (lon_text.parse::<f64>(), lat_text.parse::<f64>()) else {
            continue;
        };
        if adcode.is_empty() || name.is_empty() || !lon.is_finite() || !lat.is_finite() {
            continue;
        }
        let urban = name.ends_with('区');
        let mut weight = if urban {
            4.0
        } else if name.ends_with('市') {
            2.5
        } else {
            1.0
        };
        let prefecture = adcode.get(..4).unwrap_or(adcode);
        if TIER1.contains(&prefecture) {
            weight *= 5.0;
        } else if TIER2.contains(&prefecture) {
            weight *= 2.5;
        }
        places.push(Place {
            adcode: adcode.to_string(),
            name: name.to_string(),
            lon,
            lat,
            lon_text: lon_text.to_string(),
            lat_text: lat_text.to_string(),
            weight,
            urban,
        });
    }
    if places.is_empty() {
        return Err(GenError::new(format!(
            "{name} has no places with coordinates"
        )));
    }
    places.sort_by(|a, b| (&a.adcode, &a.name).cmp(&(&b.adcode, &b.name)));
    Ok(places)
}

/// A store of the brand.
#[derive(Clone, Debug)]
pub(crate) struct Store {
    pub id: String,
    pub name: String,
    pub place: u32,
    pub radius_km: f64,
}

const MALLS: [&str; 10] = [
    "红星美凯龙",
    "居然之家",
    "万达广场",
    "吾悦广场",
    "龙湖天街",
    "万象城",
    "印象城",
    "大悦城",
    "银泰城",
    "宝龙广场",
];

/// Stores and, for each place, where its residents shop.
pub(crate) struct Stores {
    pub stores: Vec<Store>,
    /// Stores at each place.
    pub at_place: Vec<Vec<u32>>,
    /// The store nearest to each place.
    pub nearest: Vec<u32>,
}

/// How many stores `consumers` consumers get.
pub fn store_count(consumers: u64) -> u64 {
    (consumers / 200).clamp(20, 5000)
}

pub(crate) fn place_stores(places: &[Place], count: u64, draw: &mut Draw) -> Stores {
    let cumulative = cumulative(places.iter().map(|p| p.weight));
    let mut at_place: Vec<Vec<u32>> = vec![Vec::new(); places.len()];
    let mut stores = Vec::with_capacity(count as usize);
    for i in 0..count {
        let place = draw.cumulative(&cumulative) as u32;
        let p = &places[place as usize];
        let here = &mut at_place[place as usize];
        let n = here.len();
        // Each place starts at its own mall.
        let first = (crate::ids::mix64(u64::from(place)) % MALLS.len() as u64) as usize;
        let mall = MALLS[(first + n) % MALLS.len()];
        let name = if n < MALLS.len() {
            format!("美家家居·{}{}店", p.name, mall)
        } else {
            format!("美家家居·{}{}{}号店", p.name, mall, n / MALLS.len() + 1)
        };
        let radius_km = if p.urban {
            3.0 + draw.unit() * 5.0
        } else if p.name.ends_with('市') {
            5.0 + draw.unit() * 7.0
        } else {
            8.0 + draw.unit() * 7.0
        };
        here.push(i as u32);
        stores.push(Store {
            id: format!("S{:04}", i + 1),
            name,
            place,
            radius_km: (radius_km * 10.0).round() / 10.0,
        });
    }
    let nearest = places
        .iter()
        .map(|p| {
            let mut best = (f64::INFINITY, 0u32);
            for (i, s) in stores.iter().enumerate() {
                let q = &places[s.place as usize];
                let d = distance2(p, q);
                if d < best.0 {
                    best = (d, i as u32);
                }
            }
            best.1
        })
        .collect();
    Stores {
        stores,
        at_place,
        nearest,
    }
}

/// Squared equirectangular distance, enough to compare.
fn distance2(a: &Place, b: &Place) -> f64 {
    let x = (a.lon - b.lon) * ((a.lat + b.lat) / 2.0).to_radians().cos();
    let y = a.lat - b.lat;
    x * x + y * y
}

pub(crate) fn cumulative(weights: impl Iterator<Item = f64>) -> Vec<f64> {
    let mut total = 0.0;
    weights
        .map(|w| {
            total += w;
            total
        })
        .collect()
}
