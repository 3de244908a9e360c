//! The `tenants` phase: many organizations syncing at once (issue "Many tenants at once").
//!
//! `--tenants` organizations are created through the CLI with their own SCIM tokens, seeded
//! with `--tenant-users` users (through /Bulk) and `--tenant-groups` groups each, then all of
//! them send a fixed mix of sync requests at once, each request for a tenant drawn at random,
//! over the same keep-alive connections (a request carries its tenant's token). Reported: the
//! rate per kind and overall, the per-tenant p99 (median over tenants and the worst), and the
//! lookups of one more, quiet tenant measured alone and while the others load.
//!
//! Every request body and target is built before the clock starts, as in the other phases.

use super::*;

/// One kind of request in the mix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SyncKind {
    Lookup,
    Create,
    Deactivate,
    MemberAdd,
}

impl SyncKind {
    const ALL: [SyncKind; 4] = [
        SyncKind::Lookup,
        SyncKind::Create,
        SyncKind::Deactivate,
        SyncKind::MemberAdd,
    ];

    fn label(self) -> &'static str {
        match self {
            SyncKind::Lookup => "`userName eq` lookup",
            SyncKind::Create => "user create (POST)",
            SyncKind::Deactivate => "`active=false` PATCH",
            SyncKind::MemberAdd => "group member add (PATCH)",
        }
    }

    /// Requests of this kind in every `MIX_LEN`: an IdP's incremental sync mostly checks
    /// whether users exist, and changes a few.
    fn share(self) -> usize {
        match self {
            SyncKind::Lookup => 10,
            SyncKind::Create => 4,
            SyncKind::Deactivate => 3,
            SyncKind::MemberAdd => 3,
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// The sum of the shares.
const MIX_LEN: usize = 20;

/// The mix as one line of the report.
fn mix_line() -> String {
    SyncKind::ALL
        .iter()
        .map(|k| format!("{} {}", k.share(), k.label()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One seeded organization.
struct Tenant {
    slug: String,
    auth: HeaderValue,
    pop: Population,
    groups: Vec<String>,
}

/// What the phase measured beyond its rows of the main table.
pub(super) struct TenantsReport {
    tenants: usize,
    users_per_tenant: usize,
    groups_per_tenant: usize,
    mixed: Outcome,
    kinds: Vec<KindRow>,
    /// Each tenant's p99 in ms and its request count, sorted by p99.
    tenant_p99: Vec<(f64, u64, String)>,
    quiet_alone: (f64, f64),
    quiet_loaded: (f64, f64),
}

struct KindRow {
    kind: SyncKind,
    requests: u64,
    errors: u64,
    hist: Histogram<u64>,
}

/// Latencies kept while the mixed load runs: per tenant (2 significant digits is enough
/// for a p99 and keeps a hundred histograms small) and per kind.
struct Tally {
    per_tenant: Vec<Histogram<u64>>,
    per_kind: Vec<KindRow>,
}

fn histogram(digits: u8) -> Histogram<u64> {
    Histogram::<u64>::new_with_bounds(1, 600_000_000, digits)
        .unwrap_or_else(|_| unreachable!("static bounds"))
}

fn ms(h: &Histogram<u64>, q: f64) -> f64 {
    h.value_at_quantile(q) as f64 / 1000.0
}

/// One planned request of the mixed load.
struct Planned {
    tenant: usize,
    kind: SyncKind,
    req: Req,
}

pub(super) async fn phase_tenants(
    args: &Args,
    bin: &Path,
    server: &Server,
    api: &Api,
    sampler: &Sampler,
    results: &mut Vec<Outcome>,
) -> anyhow::Result<TenantsReport> {
    let count = args.tenants.max(1);
    eprintln!("tenants: creating {count} organizations through the CLI");
    let run_tag = random_str(4).to_lowercase();
    let mut tenants = Vec::with_capacity(count);
    for t in 0..count {
        let slug = format!("tenant{t}-{run_tag}");
        let auth = create_org(bin, &server.url, &slug)?;
        tenants.push(Tenant {
            slug,
            auth,
            pop: Population {
                tag: format!("t{t}{run_tag}"),
                users: Vec::new(),
                next_index: 0,
            },
            groups: Vec::new(),
        });
    }
    results.push(seed_users(args, api, sampler, &mut tenants).await);
    results.push(seed_groups(args, api, sampler, &mut tenants).await?);
    if let Some(t) = tenants
        .iter()
        .find(|t| t.pop.users.len() < args.tenant_users || t.groups.len() < args.tenant_groups)
    {
        bail!(
            "seeding fell short: {} has {} users and {} groups",
            t.slug,
            t.pop.users.len(),
            t.groups.len()
        );
    }

    // The quiet tenant: its own users, looked up alone first.
    let quiet = Api {
        auth: create_org(bin, &server.url, &format!("quiet-{run_tag}"))?,
        idle: Arc::new(Mutex::new(Vec::new())),
        ..api.clone()
    };
    let mut qpop = Population {
        tag: format!("q{run_tag}"),
        users: Vec::new(),
        next_index: 0,
    };
    if let Some(o) = ensure_users(
        args,
        &quiet,
        sampler,
        &mut qpop,
        args.quiet_users,
        "(seed quiet tenant)",
    )
    .await
    {
        results.push(o);
    }
    api.settle_statistics();
    let quiet_lookups = quiet_lookup_targets(&quiet, &qpop)?;
    let alone = drive_with(
        "quiet lookup, alone",
        args.quiet_lookups,
        QUIET_CONCURRENCY,
        Duration::from_secs(args.max_seconds),
        sampler,
        &quiet,
        pick_lookup(quiet_lookups.clone()),
        Hooks {
            on_ok: Some(Arc::new(lookup_found_one)),
            pace: Some(QUIET_PACE),
            ..Hooks::default()
        },
    )
    .await;

    let (plan, kinds_of) = build_plan(args, api, &mut tenants)?;
    let tally = Arc::new(Mutex::new(Tally {
        per_tenant: (0..tenants.len()).map(|_| histogram(2)).collect(),
        per_kind: SyncKind::ALL
            .iter()
            .map(|&kind| KindRow {
                kind,
                requests: 0,
                errors: 0,
                hist: histogram(3),
            })
            .collect(),
    }));
    let observe: Arc<Observe> = {
        let (tally, kinds_of) = (tally.clone(), kinds_of.clone());
        Arc::new(move |i, latency: Duration, ok| {
            let Some(&(tenant, kind)) = kinds_of.get(i) else {
                return;
            };
            let micros = latency.as_micros() as u64;
            let mut t = tally.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(h) = t.per_tenant.get_mut(tenant) {
                h.saturating_record(micros);
            }
            if let Some(row) = t.per_kind.get_mut(kind.index()) {
                row.requests += 1;
                row.errors += u64::from(!ok);
                row.hist.saturating_record(micros);
            }
        })
    };
    let on_ok: Arc<OnOk> = {
        let kinds_of = kinds_of.clone();
        Arc::new(move |i, body: &[u8]| match kinds_of.get(i).map(|k| k.1) {
            Some(SyncKind::Lookup) => lookup_found_one(i, body),
            Some(SyncKind::Create) => match serde_json::from_slice::<Created>(body) {
                Ok(Created { id: Some(_) }) => Vec::new(),
                _ => vec!["201 without id".into()],
            },
            _ => Vec::new(),
        })
    };
    let n = plan.len();
    let plan = Arc::new(plan);
    let stop = Arc::new(AtomicBool::new(false));
    let mixed = {
        let stop = stop.clone();
        async move {
            let out = drive_with(
                &format!("tenants: mixed sync, {count} orgs"),
                n,
                args.concurrency,
                Duration::from_secs(args.max_seconds),
                sampler,
                api,
                move |i| {
                    plan.get(i)
                        .map(|p| p.req.clone())
                        .ok_or_else(|| anyhow!("no request {i} planned"))
                },
                Hooks {
                    on_ok: Some(on_ok),
                    observe: Some(observe),
                    stop: None,
                    pace: None,
                },
            )
            .await;
            stop.store(true, Ordering::Relaxed);
            out
        }
    };
    let loaded = async {
        // Let the mixed load reach all its connections first.
        tokio::time::sleep(Duration::from_millis(300)).await;
        drive_with(
            &format!("quiet lookup, {count} orgs loading"),
            usize::MAX,
            QUIET_CONCURRENCY,
            Duration::from_secs(args.max_seconds),
            sampler,
            &quiet,
            pick_lookup(quiet_lookups),
            Hooks {
                on_ok: Some(Arc::new(lookup_found_one)),
                stop: Some(stop.clone()),
                pace: Some(QUIET_PACE),
                ..Hooks::default()
            },
        )
        .await
    };
    let (mixed, loaded) = tokio::join!(mixed, loaded);

    let tally = std::mem::replace(
        &mut *tally.lock().unwrap_or_else(|e| e.into_inner()),
        Tally {
            per_tenant: Vec::new(),
            per_kind: Vec::new(),
        },
    );
    let mut tenant_p99: Vec<(f64, u64, String)> = tally
        .per_tenant
        .iter()
        .zip(&tenants)
        .map(|(h, t)| (ms(h, 0.99), h.len(), t.slug.clone()))
        .collect();
    tenant_p99.sort_by(|a, b| a.0.total_cmp(&b.0));
    let report = TenantsReport {
        tenants: count,
        users_per_tenant: args.tenant_users,
        groups_per_tenant: args.tenant_groups,
        kinds: tally.per_kind,
        tenant_p99,
        quiet_alone: (alone.ms(0.5), alone.ms(0.99)),
        quiet_loaded: (loaded.ms(0.5), loaded.ms(0.99)),
        mixed: mixed.clone(),
    };
    results.push(mixed);
    results.push(alone);
    results.push(loaded);
    Ok(report)
}

/// The quiet tenant looks users up one at a time, starting one at most every `QUIET_PACE`
/// (200 a second at most): it measures what a tenant with little to do sees, without
/// becoming a load itself (unpaced, it took more requests than all the others together).
const QUIET_CONCURRENCY: usize = 1;
const QUIET_PACE: Duration = Duration::from_millis(5);

fn quiet_lookup_targets(api: &Api, pop: &Population) -> anyhow::Result<Arc<Vec<Uri>>> {
    Ok(Arc::new(
        pop.users
            .iter()
            .map(|u| {
                api.uri(&format!(
                    "/Users?filter={}",
                    enc(&quote_filter(&u.user_name))
                ))
            })
            .collect::<anyhow::Result<Vec<Uri>>>()?,
    ))
}

fn pick_lookup(targets: Arc<Vec<Uri>>) -> impl Fn(usize) -> anyhow::Result<Req> + Send + Sync {
    move |_| {
        let target = targets
            .choose(&mut rand::thread_rng())
            .ok_or_else(|| anyhow!("no users to look up"))?;
        Ok(Req::get(target.clone()))
    }
}

/// A `userName eq` lookup must find exactly the one user.
fn lookup_found_one(_: usize, body: &[u8]) -> Vec<String> {
    let total = serde_json::from_slice::<ListAnswer>(body)
        .ok()
        .and_then(|l| l.total_results);
    if total == Some(1) {
        Vec::new()
    } else {
        let total = total.map_or("null".to_string(), |t| t.to_string());
        vec![format!("lookup totalResults {total}")]
    }
}

/// Every tenant's users through /Bulk, all tenants' requests in one run.
async fn seed_users(args: &Args, api: &Api, sampler: &Sampler, tenants: &mut [Tenant]) -> Outcome {
    let per = args.tenant_users;
    let size = args.bulk_size.max(1);
    // Per request: its tenant; per tenant: the user names by bulkId number.
    let mut reqs = Vec::new();
    let mut owner = Vec::new();
    let mut names = Vec::with_capacity(tenants.len());
    let bulk = Uri::from_static("/scim/v2/Bulk");
    for (t, tenant) in tenants.iter_mut().enumerate() {
        let first = tenant.pop.next_index;
        tenant.pop.next_index += per;
        let (tenant_names, bodies) = bulk_bodies(&tenant.pop.tag, first, per, size);
        names.push(tenant_names);
        for body in bodies {
            reqs.push(Req::json(Method::POST, bulk.clone(), body).for_org(&tenant.auth));
            owner.push(t);
        }
    }
    let (reqs, owner) = (Arc::new(reqs), Arc::new(owner));
    let found: Arc<Mutex<Vec<(usize, usize, String)>>> = Arc::new(Mutex::new(Vec::new()));
    let (f, o) = (found.clone(), owner.clone());
    let on_ok: Arc<OnOk> = Arc::new(move |r, body: &[u8]| {
        let (got, errs) = bulk_created(body);
        let t = o.get(r).copied().unwrap_or(usize::MAX);
        f.lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend(got.into_iter().map(|(k, id)| (t, k, id)));
        errs
    });
    let n = reqs.len();
    let mut out = drive(
        "(seed tenants' users)",
        n,
        args.bulk_concurrency,
        Duration::from_secs(args.max_seconds),
        sampler,
        api,
        move |r| {
            reqs.get(r)
                .cloned()
                .ok_or_else(|| anyhow!("no bulk request {r}"))
        },
        Some(on_ok),
    )
    .await;
    let found = std::mem::take(&mut *found.lock().unwrap_or_else(|e| e.into_inner()));
    let loaded = found.len();
    for (t, k, id) in found {
        if let (Some(tenant), Some(user_name)) =
            (tenants.get_mut(t), names.get(t).and_then(|n| n.get(k)))
        {
            tenant.pop.users.push(User {
                id,
                user_name: user_name.clone(),
            });
        }
    }
    out.note = format!(
        "{loaded} users in {:.1} s = {:.0} users/s ({per} per tenant, {size} operations per request)",
        out.elapsed.as_secs_f64(),
        loaded as f64 / out.elapsed.as_secs_f64().max(1e-9)
    );
    eprintln!("  {}", out.note);
    out
}

/// Every tenant's groups, one POST each.
async fn seed_groups(
    args: &Args,
    api: &Api,
    sampler: &Sampler,
    tenants: &mut [Tenant],
) -> anyhow::Result<Outcome> {
    let groups = Uri::from_static("/scim/v2/Groups");
    let mut reqs = Vec::new();
    let mut owner = Vec::new();
    for (t, tenant) in tenants.iter().enumerate() {
        for g in 0..args.tenant_groups {
            let body = format!(
                r#"{{"schemas":["{GROUP_SCHEMA}"],"displayName":"group {g} of {}"}}"#,
                tenant.slug
            );
            reqs.push(Req::json(Method::POST, groups.clone(), body).for_org(&tenant.auth));
            owner.push(t);
        }
    }
    let (reqs, owner) = (Arc::new(reqs), Arc::new(owner));
    let found: Arc<Mutex<Vec<(usize, String)>>> = Arc::new(Mutex::new(Vec::new()));
    let (f, o) = (found.clone(), owner.clone());
    let on_ok: Arc<OnOk> =
        Arc::new(move |r, body: &[u8]| {
            match serde_json::from_slice::<Created>(body)
                .ok()
                .and_then(|c| c.id)
            {
                Some(id) => {
                    let t = o.get(r).copied().unwrap_or(usize::MAX);
                    f.lock().unwrap_or_else(|e| e.into_inner()).push((t, id));
                    Vec::new()
                }
                None => vec!["201 without id".into()],
            }
        });
    let n = reqs.len();
    let out = drive(
        "(seed tenants' groups)",
        n,
        args.concurrency,
        Duration::from_secs(args.max_seconds),
        sampler,
        api,
        move |r| {
            reqs.get(r)
                .cloned()
                .ok_or_else(|| anyhow!("no group request {r}"))
        },
        Some(on_ok),
    )
    .await;
    for (t, id) in std::mem::take(&mut *found.lock().unwrap_or_else(|e| e.into_inner())) {
        if let Some(tenant) = tenants.get_mut(t) {
            tenant.groups.push(id);
        }
    }
    Ok(out)
}

/// The mixed load: `--tenant-requests` requests in the fixed mix, shuffled, each for a tenant
/// drawn at random. Deactivations and member adds walk each tenant's users in a shuffled
/// order, so no request repeats another (a tenant with more of them than users starts over:
/// deactivating again is still a 200). Returns the requests and, by index, (tenant, kind).
#[allow(clippy::type_complexity)]
fn build_plan(
    args: &Args,
    api: &Api,
    tenants: &mut [Tenant],
) -> anyhow::Result<(Vec<Planned>, Arc<Vec<(usize, SyncKind)>>)> {
    let n = args.tenant_requests;
    let mut rng = rand::thread_rng();
    let mut kinds: Vec<SyncKind> = (0..n)
        .map(|i| {
            let mut slot = i % MIX_LEN;
            for k in SyncKind::ALL {
                if slot < k.share() {
                    return k;
                }
                slot -= k.share();
            }
            SyncKind::Lookup
        })
        .collect();
    kinds.shuffle(&mut rng);
    // Per tenant: users in a shuffled order for deactivations, another for member adds, and
    // how far each walk has gone.
    let orders: Vec<(Vec<usize>, Vec<usize>)> = tenants
        .iter()
        .map(|t| {
            let mut a: Vec<usize> = (0..t.pop.users.len()).collect();
            let mut b = a.clone();
            a.shuffle(&mut rand::thread_rng());
            b.shuffle(&mut rand::thread_rng());
            (a, b)
        })
        .collect();
    let mut walked = vec![(0usize, 0usize); tenants.len()];
    let deactivate = Bytes::from(format!(
        r#"{{"schemas":["{PATCH_SCHEMA}"],"Operations":[{{"op":"replace","value":{{"active":false}}}}]}}"#
    ));
    let users_uri = Uri::from_static("/scim/v2/Users");
    let mut plan = Vec::with_capacity(n);
    for kind in kinds {
        let t = rng.gen_range(0..tenants.len());
        let tenant = &mut tenants[t];
        let users = &tenant.pop.users;
        let req = match kind {
            SyncKind::Lookup => {
                let u = users
                    .choose(&mut rng)
                    .ok_or_else(|| anyhow!("{} has no users", tenant.slug))?;
                Req::get(api.uri(&format!(
                    "/Users?filter={}",
                    enc(&quote_filter(&u.user_name))
                ))?)
            }
            SyncKind::Create => {
                let (_, body) = user_body(&tenant.pop.tag, tenant.pop.next_index);
                tenant.pop.next_index += 1;
                Req::json(Method::POST, users_uri.clone(), body)
            }
            SyncKind::Deactivate => {
                let k = walked[t].0;
                walked[t].0 += 1;
                let u = &users[orders[t].0[k % users.len()]];
                Req::json(
                    Method::PATCH,
                    api.uri(&format!("/Users/{}", enc(&u.id)))?,
                    deactivate.clone(),
                )
            }
            SyncKind::MemberAdd => {
                // The k-th add puts the k-th user of the walk into group k / users, so a
                // (group, user) pair repeats only after every user joined every group.
                let k = walked[t].1;
                walked[t].1 += 1;
                let u = &users[orders[t].1[k % users.len()]];
                let g = &tenant.groups[(k / users.len()) % tenant.groups.len()];
                Req::json(
                    Method::PATCH,
                    api.uri(&format!("/Groups/{}", enc(g)))?,
                    members_patch([u.id.as_str()]),
                )
            }
        };
        plan.push(Planned {
            tenant: t,
            kind,
            req: req.for_org(&tenant.auth),
        });
    }
    let kinds_of = Arc::new(plan.iter().map(|p| (p.tenant, p.kind)).collect());
    Ok((plan, kinds_of))
}

pub(super) fn print_tenants(r: &TenantsReport) {
    println!(
        "### tenants: {} organizations syncing at once ({} users and {} groups each)",
        r.tenants, r.users_per_tenant, r.groups_per_tenant
    );
    println!();
    println!(
        "Mix, per {MIX_LEN} requests, shuffled, each request for a tenant drawn at random: {}.",
        mix_line()
    );
    println!();
    let wall = r.mixed.elapsed.as_secs_f64().max(1e-9);
    println!("| kind | requests | req/s | p50 ms | p99 ms | errors |");
    println!("|---|---:|---:|---:|---:|---:|");
    for k in &r.kinds {
        println!(
            "| {} | {} | {:.0} | {:.2} | {:.2} | {} |",
            k.kind.label(),
            k.requests,
            k.requests as f64 / wall,
            ms(&k.hist, 0.5),
            ms(&k.hist, 0.99),
            k.errors
        );
    }
    println!(
        "| **all** | {} | **{:.0}** | {:.2} | {:.2} | {} |",
        r.mixed.requests,
        r.mixed.rate(),
        r.mixed.ms(0.5),
        r.mixed.ms(0.99),
        r.mixed.error_count()
    );
    println!();
    let p99s = &r.tenant_p99;
    if let (Some(best), Some(worst)) = (p99s.first(), p99s.last()) {
        let median = &p99s[p99s.len() / 2];
        let mut counts: Vec<u64> = p99s.iter().map(|p| p.1).collect();
        counts.sort_unstable();
        println!(
            "Per-tenant p99 (over each tenant's requests, {}–{} per tenant, median {}): \
             median over tenants **{:.2} ms**, worst **{:.2} ms** ({}), best {:.2} ms.",
            counts[0],
            counts[counts.len() - 1],
            counts[counts.len() / 2],
            median.0,
            worst.0,
            worst.2,
            best.0
        );
    }
    println!();
    println!(
        "Quiet tenant's lookups ({QUIET_CONCURRENCY} at a time, one per {} ms at most): alone \
         p50 {:.2} ms / p99 {:.2} ms; while the {} others load p50 {:.2} ms / p99 {:.2} ms.",
        QUIET_PACE.as_millis(),
        r.quiet_alone.0,
        r.quiet_alone.1,
        r.tenants,
        r.quiet_loaded.0,
        r.quiet_loaded.1
    );
    println!();
}
