//! The activation layer: nearest rows (LBS), audiences, routes, comparisons, exports.

use mj_runtime::near;

#[test]
fn haversine_matches_known_distances() {
    // Beijing (Tiananmen) to Shanghai (People's Square): about 1,067 km.
    let d = near::haversine_km(39.9087, 116.3975, 31.2304, 121.4737);
    assert!((d - 1067.0).abs() < 5.0, "{d}");
    // A quarter of the equator.
    let q = near::haversine_km(0.0, 0.0, 0.0, 90.0);
    assert!((q - near::EARTH_RADIUS_KM * std::f64::consts::FRAC_PI_2).abs() < 1e-9);
    assert_eq!(near::haversine_km(31.0, 121.0, 31.0, 121.0), 0.0);
}

#[test]
fn the_index_finds_what_brute_force_finds() {
    let mut seed = 7u64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed >> 11) as f64 / (1u64 << 53) as f64
    };
    let stores: Vec<(f64, f64)> = (0..500)
        .map(|_| (18.0 + 35.0 * next(), 75.0 + 60.0 * next()))
        .collect();
    let index = near::Points::new(stores.clone());
    for _ in 0..2000 {
        let (lat, lon) = (15.0 + 40.0 * next(), 70.0 + 70.0 * next());
        let a = index.nearest(lat, lon).expect("found");
        let b = near::nearest_brute(&stores, lat, lon).expect("found");
        assert!((a.1 - b.1).abs() < 1e-9, "{a:?} {b:?}");
    }
    // Across the antimeridian and at the poles.
    let index = near::Points::new(vec![(0.0, 179.9), (0.0, -170.0), (89.9, 0.0)]);
    assert_eq!(index.nearest(0.0, -179.9).map(|x| x.0), Some(0));
    assert_eq!(index.nearest(90.0, 45.0).map(|x| x.0), Some(2));
    assert_eq!(index.nearest(f64::NAN, 0.0), None);
}

#[test]
fn chi_square_of_a_textbook_table() {
    // Agresti, An Introduction to Categorical Data Analysis, party identification by
    // gender: females 762 / 327 / 468, males 484 / 239 / 477 (Democrat, Independent,
    // Republican): X² = 30.07 on 2 degrees of freedom.
    let (chi2, dof, p) =
        mj_runtime::compare::chi2_homogeneity(&[762, 327, 468], &[484, 239, 477]).expect("test");
    assert!((chi2 - 30.07).abs() < 0.01, "{chi2}");
    assert_eq!(dof, 2);
    // With 2 degrees of freedom the upper tail is exp(-x/2).
    assert!((p - (-chi2 / 2.0).exp()).abs() < 1e-12, "{p}");
    // Categories empty in both groups do not count; an empty group has no test.
    let again = mj_runtime::compare::chi2_homogeneity(&[762, 0, 327, 468], &[484, 0, 239, 477]);
    assert_eq!(again.map(|t| t.1), Some(2));
    assert_eq!(
        mj_runtime::compare::chi2_homogeneity(&[0, 0], &[3, 4]),
        None
    );
}

#[test]
fn audiences_routes_and_comparisons_match_hand_written_computations() {
    use crate::common::{graph, repo, run};
    use arrow::array::Array;
    use std::collections::HashMap;
    let dir = crate::common::generated("activation", 1500, 120, 5);
    let out = dir.join("out");
    let g = graph(&repo().join("examples/meijia"));
    let (manifest, result) = run(&g, &dir, &out, "2025-06-30");
    result.expect("runs");
    let part = |t: &str| out.join(t).join("dt=2025-06-30");

    // Nearest stores: the index's answer is brute force's, on every located consumer.
    let stores: Vec<(String, f64, f64)> =
        crate::common::rows_text(&part("dim/store"), &["store_id", "lat", "lon"])
            .into_iter()
            .filter(|r| !r[1].is_empty() && !r[2].is_empty())
            .map(|r| {
                (
                    r[0].clone(),
                    r[1].parse().expect("lat"),
                    r[2].parse().expect("lon"),
                )
            })
            .collect();
    let points: Vec<(f64, f64)> = stores.iter().map(|s| (s.1, s.2)).collect();
    let near = crate::common::rows_text(
        &part("ads/consumer_near_store"),
        &[
            "consumer",
            "lat",
            "lon",
            "located_by",
            "store",
            "distance_km",
        ],
    );
    assert!(near.len() > 100, "{}", near.len());
    let mut by: HashMap<String, usize> = HashMap::new();
    for r in &near {
        *by.entry(r[3].clone()).or_default() += 1;
        let (lat, lon): (f64, f64) = (r[1].parse().expect("lat"), r[2].parse().expect("lon"));
        let (i, km) = near::nearest_brute(&points, lat, lon).expect("a store");
        let got: f64 = r[5].parse().expect("km");
        // Within a metre: stores' coordinates are read back here as printed text.
        assert!(
            (got - km).abs() < 1e-3,
            "{r:?}: brute force {km} at {}",
            stores[i].0
        );
    }
    // Every way of locating is used by the generated data.
    for how in ["app_event", "store", "city"] {
        assert!(by.get(how).copied().unwrap_or(0) > 0, "{by:?}");
    }

    // The app-located consumers are at their latest app event with a position.
    let rt = tokio::runtime::Runtime::new().expect("tokio");
    let ctx = datafusion::prelude::SessionContext::new();
    let differing = rt.block_on(async {
        for (name, path) in [
            ("m", "oneid/consumer"),
            ("app", "ods/app_event"),
            ("near", "ads/consumer_near_store"),
            ("a", "ads/consumer_audiences"),
            ("stage", "ads/aipl_brand"),
            ("tags", "ads/consumer_tags"),
            ("rfm", "ads/rfm_value"),
            ("store", "dim/store"),
        ] {
            ctx.register_parquet(name, part(path).to_string_lossy().as_ref(), Default::default())
                .await
                .expect("register");
        }
        let sql = "
            WITH ids AS (SELECT source, record_id, min(oneid) AS oneid FROM m GROUP BY source, record_id),
            pos AS (SELECT oneid, lat, lon FROM (
                SELECT i.oneid, e.lat, e.lon, row_number() OVER (PARTITION BY i.oneid
                    ORDER BY e.ts DESC, e.event_id DESC) AS rn
                FROM app e JOIN ids i ON i.source = 'app_event' AND i.record_id = e.event_id
                WHERE e.lat IS NOT NULL AND e.lon IS NOT NULL
                  AND e.ts < TIMESTAMP '2025-07-01 00:00:00') x WHERE rn = 1),
            hand AS (
              SELECT t.consumer,
                coalesce(s.stage = 'I' AND t.style_pref IN ('现代简约', '北欧')
                         AND n.distance_km <= 3, false) AS sofa_intent,
                coalesce(r.segment = 'HHH' OR t.price_level = '高端', false) AS high_value,
                n.distance_km, st.service_radius_km
              FROM tags t LEFT JOIN stage s ON s.consumer = t.consumer
                          LEFT JOIN rfm r ON r.consumer = t.consumer
                          LEFT JOIN near n ON n.consumer = t.consumer
                          LEFT JOIN store st ON st.store_id = n.store)
            SELECT
              (SELECT count(*) FROM near n JOIN pos p ON p.oneid = n.consumer
                WHERE n.located_by = 'app_event'
                  AND (abs(n.lat - p.lat) > 1e-9 OR abs(n.lon - p.lon) > 1e-9)) AS c1,
              (SELECT count(*) FROM near n LEFT JOIN pos p ON p.oneid = n.consumer
                WHERE (n.located_by = 'app_event') <> (p.oneid IS NOT NULL)) AS c2,
              (SELECT count(*) FROM hand h FULL JOIN a ON a.consumer = h.consumer
                WHERE h.consumer IS NULL OR a.consumer IS NULL
                   OR h.sofa_intent <> a.sofa_intent OR h.high_value <> a.high_value) AS c3,
              (SELECT count(*) FROM hand h JOIN a ON a.consumer = h.consumer
                WHERE (a.sofa_intent AND a.route_sofa_intent IS DISTINCT FROM
                  CASE WHEN h.distance_km <= 3 THEN 'outdoor_media'
                       WHEN h.distance_km <= h.service_radius_km THEN 'alipay_lighthouse'
                       ELSE 'online_media' END)
                   OR (a.high_value AND a.route_high_value IS DISTINCT FROM
                  CASE WHEN h.distance_km <= 3 THEN 'outdoor_media'
                       WHEN h.distance_km <= h.service_radius_km THEN 'alipay_lighthouse'
                       ELSE 'online_media' END)
                   OR (NOT a.high_value AND a.route_high_value IS NOT NULL)) AS c4";
        let batches = ctx.sql(sql).await.expect("sql").collect().await.expect("rows");
        let b = &batches[0];
        (0..4)
            .map(|c| {
                b.column(c)
                    .as_any()
                    .downcast_ref::<arrow::array::Int64Array>()
                    .expect("count")
                    .value(0)
            })
            .collect::<Vec<_>>()
    });
    assert_eq!(
        differing,
        [0, 0, 0, 0],
        "[wrong positions, wrongly app-located, audience rows, routes] differ from the hand-written query"
    );

    // Sizes, overlaps and routes in the manifest agree with the member tables.
    let size = |a: &str| {
        crate::common::rows_text(&part(&format!("ads/audience_{a}")), &["consumer"]).len() as u64
    };
    let report = |a: &str| {
        manifest
            .audiences
            .iter()
            .find(|r| r.audience == a)
            .expect("report")
    };
    assert_eq!(report("sofa_intent").members, size("sofa_intent"));
    assert_eq!(report("high_value").members, size("high_value"));
    assert!(size("sofa_intent") > 0 && size("high_value") > 0);
    let routed: u64 = report("sofa_intent").route.values().sum();
    assert_eq!(routed, size("sofa_intent"));
    let routes = &report("high_value").route;
    assert_eq!(routes.values().sum::<u64>(), size("high_value"));
    assert!(routes.len() >= 2, "{routes:?}");
    let members = |a: &str| {
        crate::common::rows_text(&part(&format!("ads/audience_{a}")), &["consumer"])
            .into_iter()
            .map(|r| r[0].clone())
            .collect::<std::collections::HashSet<_>>()
    };
    let both = members("sofa_intent")
        .intersection(&members("high_value"))
        .count() as u64;
    assert_eq!(report("sofa_intent").overlap["high_value"], both);

    // TGI of gender, from the audience and the tags by hand.
    let gender: HashMap<String, String> =
        crate::common::rows_text(&part("ads/consumer_tags"), &["consumer", "gender"])
            .into_iter()
            .map(|r| (r[0].clone(), r[1].clone()))
            .collect();
    let sofa = members("sofa_intent");
    let all = gender.len() as f64;
    let shares = crate::common::rows_text(
        &part("ads/compare_sofa_intent_all"),
        &["attribute", "value", "a_entities", "b_entities", "tgi"],
    );
    let mut checked = 0;
    for r in shares.iter().filter(|r| r[0] == "gender") {
        let in_a = sofa.iter().filter(|c| gender[*c] == r[1]).count() as f64;
        let in_all = gender.values().filter(|g| **g == r[1]).count() as f64;
        assert_eq!(r[2].parse::<f64>().expect("a"), in_a);
        assert_eq!(r[3].parse::<f64>().expect("b"), in_all);
        let tgi = (in_a / sofa.len() as f64) / (in_all / all) * 100.0;
        assert!(
            (r[4].parse::<f64>().expect("tgi") - tgi).abs() < 1e-9,
            "{r:?}"
        );
        checked += 1;
    }
    assert_eq!(checked, 3, "男, 女, 未知");
    // Exports: the members, each phone as OneID normalizes it, hashed here with sha2.
    let phones = rt.block_on(async {
        let sql = "
            WITH ids AS (SELECT source, record_id, min(oneid) AS oneid FROM m GROUP BY source, record_id),
            crm_phone AS (SELECT oneid, phone FROM (
                SELECT i.oneid, c.phone, row_number() OVER (PARTITION BY i.oneid
                    ORDER BY c.joined_at DESC NULLS LAST, c.member_id DESC) AS rn
                FROM crm c JOIN ids i ON i.source = 'crm_member' AND i.record_id = c.member_id
                WHERE c.phone IS NOT NULL) x WHERE rn = 1),
            pos_phone AS (SELECT oneid, phone FROM (
                SELECT i.oneid, o.phone, row_number() OVER (PARTITION BY i.oneid
                    ORDER BY o.paid_at DESC NULLS LAST, o.order_id DESC) AS rn
                FROM pos o JOIN ids i ON i.source = 'pos_order' AND i.record_id = o.order_id
                WHERE o.phone IS NOT NULL) x WHERE rn = 1)
            SELECT a.consumer, coalesce(c.phone, p.phone) AS phone FROM a
            LEFT JOIN crm_phone c ON c.oneid = a.consumer
            LEFT JOIN pos_phone p ON p.oneid = a.consumer
            WHERE a.sofa_intent";
        for (name, path) in [("crm", "ods/crm_member"), ("pos", "ods/pos_order")] {
            ctx.register_parquet(name, part(path).to_string_lossy().as_ref(), Default::default())
                .await
                .expect("register");
        }
        let batches = ctx.sql(sql).await.expect("sql").collect().await.expect("rows");
        let mut out = HashMap::new();
        for b in batches {
            for i in 0..b.num_rows() {
                let text = |c: usize| {
                    let a = b.column(c);
                    (!a.is_null(i))
                        .then(|| arrow::util::display::array_value_to_string(a, i).expect("cell"))
                };
                out.insert(text(0).expect("id"), text(1));
            }
        }
        out
    });
    let csv =
        std::fs::read_to_string(out.join("audiences/sofa_intent/dt=2025-06-30/sofa_intent.csv"))
            .expect("the export");
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("oneid,phone_sha256,store_id"));
    let exported: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(exported.len() as u64, size("sofa_intent"));
    let mut hashed = 0;
    for row in &exported {
        assert!(sofa.contains(row[0]), "{row:?}");
        let phone = phones[row[0]]
            .as_deref()
            .and_then(mj_oneid::normalize::phone_cn);
        let expected = phone.map(|p| {
            use sha2::Digest;
            sha2::Sha256::digest(p.as_bytes())
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        });
        assert_eq!(row[1], expected.as_deref().unwrap_or(""), "{row:?}");
        hashed += usize::from(expected.is_some());
    }
    assert!(hashed > 0);
    // The salted MD5s of the Parquet export.
    let pq = crate::common::partition(&out.join("audiences/high_value/dt=2025-06-30"));
    let md5s = crate::common::rows_text(
        &out.join("audiences/high_value/dt=2025-06-30"),
        &["oneid", "phone_md5", "rfm_segment"],
    );
    assert_eq!(
        pq.iter().map(|b| b.num_rows() as u64).sum::<u64>(),
        size("high_value")
    );
    let salted = mj_runtime::export::hash("md5", Some("meijia-2025"), "13912345678");
    let by_hand = {
        use md5::Digest;
        md5::Md5::digest(b"meijia-202513912345678")
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    assert_eq!(salted, by_hand);
    assert!(md5s.iter().all(|r| r[1].is_empty() || r[1].len() == 32));
    assert!(md5s.iter().any(|r| r[2] == "HHH"));

    let tests = &manifest.comparisons[0].top;
    assert_eq!(tests.len(), 3);
    assert!(tests.windows(2).all(|w| w[0].p_value <= w[1].p_value));
}

#[test]
fn channel_contribution_of_a_path_set_computed_by_hand() {
    use mj_runtime::attribution::{Path, attribute};
    let path = |touches: &[&str], converted: bool| Path {
        touches: touches.iter().map(|t| t.to_string()).collect(),
        converted,
    };
    // A → B converts, A alone does not, B alone converts, and one direct purchase.
    let paths = [
        path(&["A", "B"], true),
        path(&["A"], false),
        path(&["B"], true),
        path(&[], true),
    ];
    // The chain: start → A 2/4, B 1/4, conversion 1/4; A → B 1/2, null 1/2; B →
    // conversion 1. P(conversion) = 2/4 · 1/2 + 1/4 + 1/4 = 3/4.
    // Without A: 1/4 + 1/4 = 1/2, removal effect 1 − (1/2)/(3/4) = 1/3.
    // Without B: 1/4, removal effect 1 − (1/4)/(3/4) = 2/3.
    // Two conversions went through channels: A gets 2 · (1/3)/(1/3 + 2/3) = 2/3.
    let c = attribute(&paths);
    let close = |x: f64, y: f64| (x - y).abs() < 1e-12;
    assert!(close(c["A"].removal_effect, 1.0 / 3.0), "{c:?}");
    assert!(close(c["B"].removal_effect, 2.0 / 3.0), "{c:?}");
    assert!(
        close(c["A"].markov, 2.0 / 3.0) && close(c["B"].markov, 4.0 / 3.0),
        "{c:?}"
    );
    assert_eq!((c["A"].first_touch, c["B"].first_touch), (1.0, 1.0));
    assert_eq!((c["A"].last_touch, c["B"].last_touch), (0.0, 2.0));
    assert!(
        close(c["A"].linear, 0.5) && close(c["B"].linear, 1.5),
        "{c:?}"
    );
    let direct = &c[mj_runtime::attribution::DIRECT];
    assert_eq!(
        (direct.first_touch, direct.linear, direct.markov),
        (1.0, 1.0, 1.0)
    );
    // Every model hands out every conversion.
    for model in [
        |c: &mj_runtime::attribution::Credit| c.first_touch,
        |c: &mj_runtime::attribution::Credit| c.last_touch,
        |c: &mj_runtime::attribution::Credit| c.linear,
        |c: &mj_runtime::attribution::Credit| c.markov,
    ] {
        assert!(close(c.values().map(model).sum::<f64>(), 3.0));
    }
}

#[test]
fn channel_contribution_on_generated_data_hands_out_every_conversion() {
    use crate::common::{graph, repo, run};
    let dir = crate::common::generated("contribution", 1200, 60, 3);
    let out = dir.join("out");
    let (manifest, result) = run(
        &graph(&repo().join("examples/meijia")),
        &dir,
        &out,
        "2025-06-30",
    );
    result.expect("runs");
    let part = |t: &str| out.join(t).join("dt=2025-06-30");
    let report = &manifest.contributions[0];
    let stages = &manifest.aipl[0].stages;
    assert_eq!(report.conversions, stages["P"] + stages["L"]);
    let table = crate::common::rows_text(
        &part("ads/aipl_brand_contribution"),
        &[
            "channel",
            "first_touch",
            "last_touch",
            "linear",
            "markov",
            "p_entities",
            "l_entities",
        ],
    );
    for k in 1..=4 {
        let total: f64 = table
            .iter()
            .map(|r| r[k].parse::<f64>().expect("credit"))
            .sum();
        assert!(
            (total - report.conversions as f64).abs() < 1e-6,
            "model {k}: {total}"
        );
    }
    let p: u64 = table.iter().map(|r| r[5].parse::<u64>().expect("p")).sum();
    assert_eq!(p, stages["P"]);
    // The paths: every consumer touched in the A and I windows, or converted — counted
    // here by hand.
    let rt = tokio::runtime::Runtime::new().expect("tokio");
    let hand = rt.block_on(async {
        let ctx = datafusion::prelude::SessionContext::new();
        for (name, path) in [
            ("m", "oneid/consumer"),
            ("media", "ods/media_touch"),
            ("app", "ods/app_event"),
            ("a", "ads/aipl_brand"),
        ] {
            ctx.register_parquet(name, part(path).to_string_lossy().as_ref(), Default::default())
                .await
                .expect("register");
        }
        let sql = "
            WITH ids AS (SELECT source, record_id, min(oneid) AS oneid FROM m GROUP BY source, record_id)
            SELECT count(*) FROM (
              SELECT i.oneid FROM media t JOIN ids i ON i.source = 'media_touch' AND i.record_id = t.touch_id
              WHERE t.kind IN ('impression', 'click')
                AND t.ts >= TIMESTAMP '2025-06-16 00:00:00' AND t.ts < TIMESTAMP '2025-07-01 00:00:00'
              UNION
              SELECT i.oneid FROM app e JOIN ids i ON i.source = 'app_event' AND i.record_id = e.event_id
              WHERE e.event IN ('view_item', 'favorite', 'consult')
                AND e.ts >= TIMESTAMP '2025-06-16 00:00:00' AND e.ts < TIMESTAMP '2025-07-01 00:00:00'
              UNION
              SELECT consumer FROM a WHERE stage IN ('P', 'L')) x";
        let b = ctx.sql(sql).await.expect("sql").collect().await.expect("rows");
        b[0].column(0)
            .as_any()
            .downcast_ref::<arrow::array::Int64Array>()
            .expect("count")
            .value(0) as u64
    });
    assert_eq!(report.paths, hand);
}
