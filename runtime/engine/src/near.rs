//! Locations and nearest rows (LBS): for each located entity, the nearest row of a
//! dimension with `lat` and `lon` (a store) and the great-circle distance to it.
//!
//! Points live on the unit sphere as 3-D vectors in an R-tree: the chord between two
//! points grows with the great-circle distance, so the nearest point by chord is the
//! nearest point on the Earth, found exactly without comparing every pair. Distances
//! are haversine with R = 6371.0088 km (the IUGG mean radius).

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, Float64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use datafusion::prelude::SessionContext;
use mj_ir::jobs::NearJob;
use rstar::RTree;
use rstar::primitives::GeomWithData;

/// The mean Earth radius (IUGG), in km.
pub const EARTH_RADIUS_KM: f64 = 6371.0088;

/// The great-circle distance between two points given in degrees, in km.
pub fn haversine_km(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = p2 - p1;
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * a.sqrt().min(1.0).asin()
}

fn unit(lat: f64, lon: f64) -> [f64; 3] {
    let (p, l) = (lat.to_radians(), lon.to_radians());
    [p.cos() * l.cos(), p.cos() * l.sin(), p.sin()]
}

/// Points (latitude, longitude in degrees) indexed for nearest-point queries.
pub struct Points {
    points: Vec<(f64, f64)>,
    tree: RTree<GeomWithData<[f64; 3], usize>>,
}

impl Points {
    /// Points that are not finite or outside ±90° / ±180° are left out of the index.
    pub fn new(points: Vec<(f64, f64)>) -> Points {
        let items = points
            .iter()
            .enumerate()
            .filter(|(_, (lat, lon))| valid(*lat, *lon))
            .map(|(i, (lat, lon))| GeomWithData::new(unit(*lat, *lon), i))
            .collect();
        Points {
            points,
            tree: RTree::bulk_load(items),
        }
    }

    /// The nearest point (its index) and the distance to it in km; of points equally
    /// near, the first.
    pub fn nearest(&self, lat: f64, lon: f64) -> Option<(usize, f64)> {
        if !valid(lat, lon) {
            return None;
        }
        let q = unit(lat, lon);
        let mut best: Option<(usize, f64)> = None;
        for (item, d2) in self.tree.nearest_neighbor_iter_with_distance_2(&q) {
            match best {
                Some((_, b)) if d2 > b => break,
                Some((i, _)) if item.data > i => {}
                _ => best = Some((item.data, d2)),
            }
        }
        best.map(|(i, _)| {
            let (plat, plon) = self.points[i];
            (i, haversine_km(lat, lon, plat, plon))
        })
    }
}

fn valid(lat: f64, lon: f64) -> bool {
    lat.is_finite() && lon.is_finite() && lat.abs() <= 90.0 && lon.abs() <= 180.0
}

/// The nearest point by comparing every one: the reference the index is tested and
/// benchmarked against.
pub fn nearest_brute(points: &[(f64, f64)], lat: f64, lon: f64) -> Option<(usize, f64)> {
    if !valid(lat, lon) {
        return None;
    }
    let mut best: Option<(usize, f64)> = None;
    for (i, &(plat, plon)) in points.iter().enumerate() {
        if !valid(plat, plon) {
            continue;
        }
        let d = haversine_km(lat, lon, plat, plon);
        if best.is_none_or(|(_, b)| d < b) {
            best = Some((i, d));
        }
    }
    best
}

/// The centre of points on the sphere: the normalized mean of their unit vectors.
fn centroid(points: &[(f64, f64)]) -> Option<(f64, f64)> {
    let mut s = [0.0f64; 3];
    for &(lat, lon) in points {
        let u = unit(lat, lon);
        for k in 0..3 {
            s[k] += u[k];
        }
    }
    let n = (s[0] * s[0] + s[1] * s[1] + s[2] * s[2]).sqrt();
    (n > 1e-12).then(|| {
        (
            (s[2] / n).asin().to_degrees(),
            s[1].atan2(s[0]).to_degrees(),
        )
    })
}

/// The output schema: the entity, its location and how it was found, the nearest
/// row's key and the distance in km.
pub fn schema(job: &NearJob) -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new(&job.entity, DataType::Utf8, false),
        Field::new("lat", DataType::Float64, false),
        Field::new("lon", DataType::Float64, false),
        Field::new("located_by", DataType::Utf8, false),
        Field::new(&job.dimension, DataType::Utf8, true),
        Field::new("distance_km", DataType::Float64, true),
    ]))
}

async fn columns(
    ctx: &SessionContext,
    table: &str,
    names: &[&str],
) -> Result<Vec<RecordBatch>, String> {
    let df = ctx.table(table).await.map_err(|e| e.to_string())?;
    let df = df.select_columns(names).map_err(|e| e.to_string())?;
    df.collect().await.map_err(|e| e.to_string())
}

fn cast(a: &ArrayRef, to: &DataType) -> Result<ArrayRef, String> {
    arrow::compute::cast(a, to).map_err(|e| e.to_string())
}

fn floats(b: &RecordBatch, name: &str) -> Result<Float64Array, String> {
    let i = b.schema().index_of(name).map_err(|e| e.to_string())?;
    let a = cast(b.column(i), &DataType::Float64)?;
    Ok(a.as_any()
        .downcast_ref::<Float64Array>()
        .cloned()
        .unwrap_or_else(|| Float64Array::from(Vec::<f64>::new())))
}

fn texts(b: &RecordBatch, name: &str) -> Result<StringArray, String> {
    let i = b.schema().index_of(name).map_err(|e| e.to_string())?;
    let a = cast(b.column(i), &DataType::Utf8)?;
    Ok(a.as_any()
        .downcast_ref::<StringArray>()
        .cloned()
        .unwrap_or_else(|| StringArray::from(Vec::<Option<&str>>::new())))
}

/// Times as microseconds (null where absent), for ordering.
fn times(b: &RecordBatch, name: Option<&str>) -> Result<Vec<Option<i64>>, String> {
    let Some(name) = name else {
        return Ok(vec![None; b.num_rows()]);
    };
    let i = b.schema().index_of(name).map_err(|e| e.to_string())?;
    let a = cast(
        b.column(i),
        &DataType::Timestamp(TimeUnit::Microsecond, None),
    )?;
    let a = cast(&a, &DataType::Int64)?;
    let a = a
        .as_any()
        .downcast_ref::<arrow::array::Int64Array>()
        .cloned()
        .unwrap_or_else(|| arrow::array::Int64Array::from(Vec::<i64>::new()));
    Ok((0..a.len())
        .map(|k| (!a.is_null(k)).then(|| a.value(k)))
        .collect())
}

/// Locates every entity of the features table and finds its nearest row of the
/// dimension: the most recent point of a linked source; else the dimension row of its
/// most recent fact row that binds the dimension; else the centroid of the dimension's
/// rows in its city.
pub async fn run(
    ctx: &SessionContext,
    job: &NearJob,
) -> Result<(SchemaRef, Vec<RecordBatch>), String> {
    let d = &job.dimension;
    // The dimension's rows with a location.
    let mut dim_columns = vec![job.key.as_str(), "lat", "lon"];
    if job.has_city {
        dim_columns.push("city");
    }
    let dim = columns(ctx, &format!("dim_{d}"), &dim_columns).await?;
    let mut keys: Vec<String> = Vec::new();
    let mut points: Vec<(f64, f64)> = Vec::new();
    let mut cities: BTreeMap<String, Vec<(f64, f64)>> = BTreeMap::new();
    for b in &dim {
        let (k, lat, lon) = (texts(b, &job.key)?, floats(b, "lat")?, floats(b, "lon")?);
        let city = if job.has_city {
            Some(texts(b, "city")?)
        } else {
            None
        };
        for i in 0..b.num_rows() {
            if k.is_null(i)
                || lat.is_null(i)
                || lon.is_null(i)
                || !valid(lat.value(i), lon.value(i))
            {
                continue;
            }
            let p = (lat.value(i), lon.value(i));
            keys.push(k.value(i).to_string());
            points.push(p);
            if let Some(c) = &city
                && !c.is_null(i)
            {
                cities.entry(c.value(i).to_string()).or_default().push(p);
            }
        }
    }
    let at: BTreeMap<&str, (f64, f64)> = keys
        .iter()
        .map(String::as_str)
        .zip(points.iter().copied())
        .collect();
    let centres: BTreeMap<&str, (f64, f64)> = cities
        .iter()
        .filter_map(|(c, ps)| centroid(ps).map(|p| (c.as_str(), p)))
        .collect();
    let index = Points::new(points.clone());

    // The features that locate each entity.
    let mut wanted: Vec<&str> = vec![job.entity.as_str()];
    for (_, lat, lon, time) in &job.points {
        wanted.extend([lat.as_str(), lon.as_str()]);
        wanted.extend(time.as_deref());
    }
    for (_, key, time) in &job.visits {
        wanted.push(key);
        wanted.extend(time.as_deref());
    }
    wanted.extend(job.cities.iter().map(String::as_str));
    let features = columns(ctx, &format!("ads_{}_features", job.entity), &wanted).await?;

    let mut ids: Vec<String> = Vec::new();
    let (mut lats, mut lons, mut by, mut nearest, mut km) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for b in &features {
        let entity = texts(b, &job.entity)?;
        let mut pts = Vec::new();
        for (source, lat, lon, time) in &job.points {
            pts.push((
                source,
                floats(b, lat)?,
                floats(b, lon)?,
                times(b, time.as_deref())?,
            ));
        }
        let mut visits = Vec::new();
        for (fact, key, time) in &job.visits {
            visits.push((fact, texts(b, key)?, times(b, time.as_deref())?));
        }
        let mut city_cols = Vec::new();
        for c in &job.cities {
            city_cols.push(texts(b, c)?);
        }
        for i in 0..b.num_rows() {
            if entity.is_null(i) {
                continue;
            }
            // The most recent point; ties to the source linked first.
            let mut found: Option<(Option<i64>, f64, f64, String)> = None;
            for (source, lat, lon, time) in &pts {
                if lat.is_null(i) || lon.is_null(i) || !valid(lat.value(i), lon.value(i)) {
                    continue;
                }
                if found.as_ref().is_none_or(|(t, ..)| time[i] > *t) {
                    found = Some((time[i], lat.value(i), lon.value(i), source.to_string()));
                }
            }
            if found.is_none() {
                let mut visit: Option<(Option<i64>, f64, f64)> = None;
                for (_, key, time) in &visits {
                    if key.is_null(i) {
                        continue;
                    }
                    let Some(&(lat, lon)) = at.get(key.value(i)) else {
                        continue;
                    };
                    if visit.as_ref().is_none_or(|(t, ..)| time[i] > *t) {
                        visit = Some((time[i], lat, lon));
                    }
                }
                found = visit.map(|(t, lat, lon)| (t, lat, lon, d.clone()));
            }
            if found.is_none() {
                found = city_cols
                    .iter()
                    .filter(|c| !c.is_null(i))
                    .find_map(|c| centres.get(c.value(i)))
                    .map(|&(lat, lon)| (None, lat, lon, "city".to_string()));
            }
            let Some((_, lat, lon, how)) = found else {
                continue;
            };
            let near = index.nearest(lat, lon);
            ids.push(entity.value(i).to_string());
            lats.push(lat);
            lons.push(lon);
            by.push(how);
            nearest.push(near.map(|(k, _)| keys[k].clone()));
            km.push(near.map(|(_, x)| x));
        }
    }
    let schema = schema(job);
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(StringArray::from(ids)),
            Arc::new(Float64Array::from(lats)),
            Arc::new(Float64Array::from(lons)),
            Arc::new(StringArray::from(by)),
            Arc::new(StringArray::from(nearest)),
            Arc::new(Float64Array::from(km)),
        ],
    )
    .map_err(|e| e.to_string())?;
    Ok((schema, vec![batch]))
}

// ------------------------------------------------------------------ the node kind

use crate::node::{Done, Kind, NodeCx};
use futures::future::BoxFuture;

/// `ads.<entity>_near_<dimension>`: computed from finished tables (an R-tree), not a
/// plan; later plans (audiences) scan it.
impl Kind for NearJob {
    fn scanned(&self) -> bool {
        true
    }

    fn schema(&self) -> Option<SchemaRef> {
        Some(schema(self))
    }

    fn run<'a>(&'a self, cx: NodeCx<'a>) -> BoxFuture<'a, Result<Done, crate::RunError>> {
        Box::pin(async move {
            let (schema, batches) = run(cx.ctx, self).await.map_err(|e| cx.fail(e))?;
            let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
            Ok(Done {
                summary: format!("{rows} located"),
                tables: vec![cx.own(schema, batches)],
                ..Done::default()
            })
        })
    }
}
