//! The endpoint inventory: per service (server address and port plus Host), each method and
//! learned path template with what its traffic showed. New endpoints and template changes are
//! reported as they happen. Bounded: services, endpoints per service and template trees are
//! capped; what does not fit is counted.

use std::{
    borrow::Borrow,
    collections::{BTreeMap, BTreeSet},
    net::SocketAddr,
};

use foldhash::{HashMap, HashMapExt};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{
    ai::{AiApi, AiCall, Provider},
    grpc::GrpcSummary,
    latency::LatencyHistogram,
    schema::{BodyModel, Observed},
    sensitive::{ClassSet, NameClues, classify_under},
    template::{PathTemplater, SegmentKind, Template, TemplateNames, TemplaterLimits},
};
use crate::{conn::Role, grpc::GrpcCall, session::actor::AuthScheme};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DiscoveryConfig {
    /// Learn the endpoint inventory and tag transactions with their endpoint and actor.
    pub enabled: bool,
    /// Distinct words at one path position from which it may become a parameter.
    pub param_threshold: usize,
    /// Services (server address, port and Host) tracked; more are counted, not kept.
    pub max_services: usize,
    /// Endpoints kept per service; more are counted, not kept.
    pub max_endpoints_per_service: usize,
    /// Path-tree nodes per service; beyond it unseen segments become parameters (counted).
    pub max_template_nodes: usize,
    /// Where a running monitor keeps the inventory as OpenAPI 3.1 (rewritten with every stats
    /// event and at exit) for `monitor openapi`; none: not written.
    pub openapi_file: Option<std::path::PathBuf>,
}

impl Default for DiscoveryConfig {
    fn default() -> Self {
        let limits = TemplaterLimits::default();
        Self {
            enabled: true,
            param_threshold: limits.param_threshold,
            max_services: 1_000,
            max_endpoints_per_service: 5_000,
            max_template_nodes: limits.max_nodes,
            openapi_file: None,
        }
    }
}

/// Query parameter names and media types kept per endpoint.
const MAX_QUERY_PARAMS: usize = 64;
const MAX_MEDIA_TYPES: usize = 8;
const MAX_STATUS_CODES: usize = 32;
const MAX_REPLACED: usize = 16;

/// A service: where requests went, and under which Host.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
pub struct ServiceKey {
    /// The server's address, when known.
    pub address: Option<std::net::IpAddr>,
    pub port: Option<u16>,
    /// The Host header (or absolute-form authority), lowercased, when sent.
    pub host: Option<String>,
}

impl ServiceKey {
    pub fn new(server: Option<SocketAddr>, host: Option<&str>) -> Self {
        Self {
            address: server.map(|s| s.ip()),
            port: server.map(|s| s.port()),
            host: host
                .map(|h| h.trim().to_ascii_lowercase())
                .filter(|h| !h.is_empty() && h.len() <= 255),
        }
    }

    /// `host (address:port)`, for people.
    pub fn label(&self) -> String {
        let addr = match (&self.address, self.port) {
            (Some(a), Some(p)) if a.is_ipv6() => format!("[{a}]:{p}"),
            (Some(a), Some(p)) => format!("{a}:{p}"),
            _ => "unknown".to_owned(),
        };
        match &self.host {
            Some(h) => format!("{h} ({addr})"),
            None => addr,
        }
    }
}

/// One transaction as the inventory sees it.
#[derive(Debug, Clone, Copy)]
pub struct Observation<'a> {
    pub service: &'a ServiceKey,
    pub method: &'a str,
    pub path: &'a str,
    pub query: Option<&'a str>,
    pub status: Option<u16>,
    pub auth: AuthScheme,
    pub latency_ns: Option<u64>,
    pub request_type: Option<&'a str>,
    pub response_type: Option<&'a str>,
    pub role: Role,
    pub ts_ns: u64,
    /// Bodies as sent (de-chunked, decoded), maybe cut short.
    pub request_body: &'a [u8],
    pub response_body: &'a [u8],
    /// The AI/LLM or MCP call this is, when recognised.
    pub ai: Option<&'a AiCall>,
    /// The gRPC call this is; with a service and method, the endpoint is keyed by its path
    /// as sent (never templated) and its bodies are the decoded messages.
    pub grpc: Option<&'a GrpcCall>,
}

/// The endpoint a transaction was counted under, and the sensitive data its bodies and query
/// carried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointRef {
    pub method: String,
    pub template: String,
    pub request_classes: ClassSet,
    pub response_classes: ClassSet,
}

/// What the AI/LLM or MCP calls of an endpoint showed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, JsonSchema)]
pub struct AiSummary {
    pub apis: BTreeSet<AiApi>,
    pub providers: BTreeSet<Provider>,
    /// Models named (at most 16).
    pub models: BTreeSet<String>,
    pub calls: u64,
    pub streaming_calls: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// MCP JSON-RPC method → calls (at most 32).
    pub mcp_methods: BTreeMap<String, u64>,
    /// MCP tools called → calls (at most 32).
    pub mcp_tools: BTreeMap<String, u64>,
}

const MAX_AI_NAMES: usize = 16;
const MAX_MCP_NAMES: usize = 32;

impl AiSummary {
    fn add(&mut self, call: &AiCall) {
        self.calls += 1;
        self.apis.insert(call.api);
        if let Some(p) = call.provider {
            self.providers.insert(p);
        }
        if let Some(model) = &call.model
            && self.models.len() < MAX_AI_NAMES
            && model.len() <= 128
        {
            self.models.insert(model.clone());
        }
        self.streaming_calls += u64::from(call.streaming);
        self.input_tokens += call.input_tokens.unwrap_or(0);
        self.output_tokens += call.output_tokens.unwrap_or(0);
        if let Some(mcp) = &call.mcp {
            for (map, name) in [
                (&mut self.mcp_methods, &mcp.method),
                (&mut self.mcp_tools, &mcp.tool),
            ] {
                if let Some(name) = name.as_deref().filter(|n| n.len() <= 128) {
                    bump(map, name, MAX_MCP_NAMES);
                }
            }
        }
    }

    fn merge(&mut self, other: AiSummary) {
        self.apis.extend(other.apis);
        self.providers.extend(other.providers);
        for m in other.models {
            if self.models.len() < MAX_AI_NAMES {
                self.models.insert(m);
            }
        }
        self.calls += other.calls;
        self.streaming_calls += other.streaming_calls;
        self.input_tokens += other.input_tokens;
        self.output_tokens += other.output_tokens;
        for (into, from) in [
            (&mut self.mcp_methods, other.mcp_methods),
            (&mut self.mcp_tools, other.mcp_tools),
        ] {
            for (k, n) in from {
                if into.len() < MAX_MCP_NAMES || into.contains_key(&k) {
                    *into.entry(k).or_default() += n;
                }
            }
        }
    }
}

/// What the inventory knows of one endpoint.
#[derive(Debug)]
pub struct Endpoint {
    pub method: String,
    pub template: Template,
    /// One path seen, to re-template the endpoint when its position generalizes (kept in
    /// memory only: paths carry ids).
    example_path: String,
    pub first_ns: u64,
    pub last_ns: u64,
    pub calls: u64,
    /// Calls seen from the server's side and from the client's (both, when both run here).
    pub calls_as_server: u64,
    pub calls_as_client: u64,
    pub status_codes: BTreeMap<u16, u64>,
    pub query_params: BTreeMap<String, u64>,
    pub request_types: BTreeSet<String>,
    pub response_types: BTreeSet<String>,
    pub auth: BTreeSet<AuthScheme>,
    pub latency: LatencyHistogram,
    /// Request and response bodies: schema, media types, sensitive fields.
    pub request: BodyModel,
    pub response: BodyModel,
    /// Sensitive data in query parameters, by name.
    pub query_sensitive: BTreeMap<String, ClassSet>,
    /// AI/LLM or MCP calls, when recognised.
    pub ai: Option<AiSummary>,
    /// gRPC calls: the endpoint is the service's method.
    pub grpc: Option<GrpcSummary>,
    /// Templates merged into this one since it was last reported.
    pub replaced: Vec<String>,
}

/// Why an `endpoint` event is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EndpointChange {
    /// First seen.
    New,
    /// A path position became a parameter: this template replaces others (`replaces`).
    TemplateChanged,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, JsonSchema)]
pub struct DiscoveryCounters {
    pub services: u64,
    pub endpoints: u64,
    /// Transactions of services beyond `max_services`.
    pub services_dropped: u64,
    /// Transactions of endpoints beyond `max_endpoints_per_service`.
    pub endpoints_dropped: u64,
    /// Path segments made parameters because a service's path tree was full.
    pub template_nodes_capped: u64,
    /// Path positions that became parameters from their many values.
    pub generalizations: u64,
}

#[derive(Debug, Default)]
struct Service {
    templater: PathTemplater,
    names: TemplateNames,
    endpoints: HashMap<(String, String), Endpoint>,
}

#[derive(Debug)]
pub struct Inventory {
    config: DiscoveryConfig,
    services: HashMap<ServiceKey, Service>,
    counters: DiscoveryCounters,
    /// Query parameter names, read once for the sensitive data they hint at.
    clues: NameClues,
}

impl Inventory {
    pub fn new(config: &DiscoveryConfig) -> Self {
        Self {
            config: config.clone(),
            services: HashMap::new(),
            counters: DiscoveryCounters::default(),
            clues: NameClues::default(),
        }
    }

    /// Counts `o` under its endpoint; endpoints new or re-templated by it are pushed to
    /// `changes` (service, method, template, why).
    pub fn observe(
        &mut self,
        o: &Observation,
        changes: &mut Vec<(ServiceKey, String, String, EndpointChange)>,
    ) -> Option<EndpointRef> {
        if !self.services.contains_key(o.service) {
            if self.services.len() >= self.config.max_services {
                self.counters.services_dropped += 1;
                return None;
            }
            let limits = TemplaterLimits {
                param_threshold: self.config.param_threshold,
                max_nodes: self.config.max_template_nodes,
            };
            self.services.insert(
                o.service.clone(),
                Service {
                    templater: PathTemplater::new(limits),
                    names: TemplateNames::new(),
                    endpoints: HashMap::new(),
                },
            );
            self.counters.services = self.services.len() as u64;
        }
        let service = self.services.get_mut(o.service)?;
        let grpc = o.grpc.filter(|c| c.service.is_some() && c.method.is_some());
        let (template, generalized) = match grpc {
            // `/package.Service/Method` names one method: its segments are names, never ids,
            // and they stay out of the path tree so they cannot make it generalize either.
            Some(_) => (
                Template {
                    text: o.path.to_owned(),
                    params: Vec::new(),
                },
                false,
            ),
            None => {
                let before = (service.templater.capped, service.templater.generalizations);
                let learned = service.templater.learn(o.path);
                self.counters.template_nodes_capped += service.templater.capped - before.0;
                self.counters.generalizations += service.templater.generalizations - before.1;
                if learned.generalized {
                    retemplate(service, o.service, changes);
                }
                (
                    service.names.name(learned.parts).clone(),
                    learned.generalized,
                )
            }
        };
        let key = (o.method.to_owned(), template.text.clone());
        let known = service.endpoints.contains_key(&key);
        if !known {
            if service.endpoints.len() >= self.config.max_endpoints_per_service {
                self.counters.endpoints_dropped += 1;
                return None;
            }
            service
                .endpoints
                .insert(key.clone(), Endpoint::new(o, template));
            changes.push((
                o.service.clone(),
                key.0.clone(),
                key.1.clone(),
                EndpointChange::New,
            ));
        }
        let endpoint = service.endpoints.get_mut(&key)?;
        let (request, response) = endpoint.add(o, &mut self.clues);
        if generalized || !known {
            // Only a new endpoint or a merge changes how many there are: not summed per call.
            self.counters.endpoints = self
                .services
                .values()
                .map(|s| s.endpoints.len() as u64)
                .sum();
        }
        Some(EndpointRef {
            method: key.0,
            template: key.1,
            request_classes: request.classes,
            response_classes: response.classes,
        })
    }

    pub fn counters(&self) -> DiscoveryCounters {
        self.counters
    }

    pub fn endpoint(
        &self,
        service: &ServiceKey,
        method: &str,
        template: &str,
    ) -> Option<&Endpoint> {
        self.services
            .get(service)?
            .endpoints
            .get(&(method.to_owned(), template.to_owned()))
    }

    /// Clears the `replaced` list once reported.
    pub fn reported(&mut self, service: &ServiceKey, method: &str, template: &str) {
        if let Some(e) = self.services.get_mut(service).and_then(|s| {
            s.endpoints
                .get_mut(&(method.to_owned(), template.to_owned()))
        }) {
            e.replaced.clear();
        }
    }

    /// Every endpoint, sorted by service, template, method.
    pub fn endpoints(&self) -> Vec<(&ServiceKey, &Endpoint)> {
        let mut all: Vec<(&ServiceKey, &Endpoint)> = self
            .services
            .iter()
            .flat_map(|(k, s)| s.endpoints.values().map(move |e| (k, e)))
            .collect();
        all.sort_by(|a, b| {
            (a.0, &a.1.template.text, &a.1.method).cmp(&(b.0, &b.1.template.text, &b.1.method))
        });
        all
    }
}

/// A position of `service` became a parameter: endpoints whose paths now have another template
/// are merged under it, and reported.
fn retemplate(
    service: &mut Service,
    key: &ServiceKey,
    changes: &mut Vec<(ServiceKey, String, String, EndpointChange)>,
) {
    let old: Vec<((String, String), Endpoint)> = service.endpoints.drain().collect();
    let mut touched: BTreeSet<(String, String)> = BTreeSet::new();
    for ((method, text), endpoint) in old {
        if endpoint.grpc.is_some() {
            // Keyed by its method's path, which the tree does not template.
            match service.endpoints.get_mut(&(method.clone(), text.clone())) {
                Some(existing) => existing.absorb(endpoint, None),
                None => {
                    service.endpoints.insert((method, text), endpoint);
                }
            }
            continue;
        }
        let template = Template::name(&service.templater.template(&endpoint.example_path));
        let new_key = (method.clone(), template.text.clone());
        if new_key.1 == text {
            match service.endpoints.get_mut(&new_key) {
                Some(existing) => existing.absorb(endpoint, None),
                None => {
                    service.endpoints.insert(new_key, endpoint);
                }
            }
            continue;
        }
        touched.insert(new_key.clone());
        match service.endpoints.get_mut(&new_key) {
            Some(existing) => existing.absorb(endpoint, Some(text)),
            None => {
                let mut moved = endpoint;
                moved.template = template;
                if moved.replaced.len() < MAX_REPLACED {
                    moved.replaced.push(text);
                }
                service.endpoints.insert(new_key, moved);
            }
        }
    }
    for (method, template) in touched {
        // Drained from a hash map: sorted so that output does not depend on its order.
        if let Some(e) = service
            .endpoints
            .get_mut(&(method.clone(), template.clone()))
        {
            e.replaced.sort();
        }
        changes.push((
            key.clone(),
            method,
            template,
            EndpointChange::TemplateChanged,
        ));
    }
}

impl Endpoint {
    fn new(o: &Observation, template: Template) -> Self {
        Self {
            method: o.method.to_owned(),
            template,
            example_path: o.path.to_owned(),
            first_ns: o.ts_ns,
            last_ns: o.ts_ns,
            calls: 0,
            calls_as_server: 0,
            calls_as_client: 0,
            status_codes: BTreeMap::new(),
            query_params: BTreeMap::new(),
            request_types: BTreeSet::new(),
            response_types: BTreeSet::new(),
            auth: BTreeSet::new(),
            latency: LatencyHistogram::default(),
            request: BodyModel::default(),
            response: BodyModel::default(),
            query_sensitive: BTreeMap::new(),
            ai: None,
            grpc: None,
            replaced: Vec::new(),
        }
    }

    /// Counts `o`; gives what its bodies showed (the query's sensitive data counted with the
    /// request's).
    fn add(&mut self, o: &Observation, clues: &mut NameClues) -> (Observed, Observed) {
        self.calls += 1;
        let mut query_classes = ClassSet::default();
        match o.role {
            Role::Server => self.calls_as_server += 1,
            Role::Client => self.calls_as_client += 1,
            Role::Unknown => {}
        }
        self.first_ns = self.first_ns.min(o.ts_ns);
        self.last_ns = self.last_ns.max(o.ts_ns);
        if let Some(status) = o.status {
            bump(&mut self.status_codes, &status, MAX_STATUS_CODES);
        }
        if let Some(query) = o.query {
            for pair in query.split('&') {
                let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
                let found = if value.is_empty() {
                    ClassSet::default()
                } else {
                    let value = percent_encoding::percent_decode_str(value).decode_utf8_lossy();
                    classify_under(clues.of(name), &value)
                };
                query_classes |= found;
                if !found.is_empty()
                    && name.len() <= 128
                    && let Some(set) = slot(&mut self.query_sensitive, name, MAX_QUERY_PARAMS)
                {
                    *set |= found;
                }
                if !name.is_empty() && name.len() <= 128 {
                    bump(&mut self.query_params, name, MAX_QUERY_PARAMS);
                }
            }
        }
        for (set, media) in [
            (&mut self.request_types, o.request_type),
            (&mut self.response_types, o.response_type),
        ] {
            if let Some(media) = media.map(media_type).filter(|m| !m.is_empty())
                && set.len() < MAX_MEDIA_TYPES
                && !set.contains(media.as_str())
            {
                set.insert(media);
            }
        }
        self.auth.insert(o.auth);
        if let Some(ns) = o.latency_ns {
            self.latency.record(ns);
        }
        if let Some(call) = o.ai {
            self.ai.get_or_insert_with(AiSummary::default).add(call);
        }
        if let Some(call) = o.grpc {
            match &mut self.grpc {
                Some(summary) => summary.add(call),
                None => self.grpc = GrpcSummary::first(call),
            }
        }
        let mut request = self.request.observe(o.request_type, o.request_body);
        request.classes |= query_classes;
        let response = self.response.observe(o.response_type, o.response_body);
        (request, response)
    }

    /// Takes in `other`'s counts (an endpoint merged under this template).
    fn absorb(&mut self, other: Endpoint, replaced: Option<String>) {
        self.first_ns = self.first_ns.min(other.first_ns);
        self.last_ns = self.last_ns.max(other.last_ns);
        self.calls += other.calls;
        self.calls_as_server += other.calls_as_server;
        self.calls_as_client += other.calls_as_client;
        for (status, n) in other.status_codes {
            *self.status_codes.entry(status).or_default() += n;
        }
        for (name, n) in other.query_params {
            if self.query_params.len() < MAX_QUERY_PARAMS || self.query_params.contains_key(&name) {
                *self.query_params.entry(name).or_default() += n;
            }
        }
        for media in other.request_types {
            if self.request_types.len() < MAX_MEDIA_TYPES {
                self.request_types.insert(media);
            }
        }
        for media in other.response_types {
            if self.response_types.len() < MAX_MEDIA_TYPES {
                self.response_types.insert(media);
            }
        }
        self.auth.extend(other.auth);
        self.latency.merge(&other.latency);
        // Body models do not merge: the one that saw more bodies is kept.
        if other.request.counts().observations > self.request.counts().observations {
            self.request = other.request;
        }
        if other.response.counts().observations > self.response.counts().observations {
            self.response = other.response;
        }
        for (name, classes) in other.query_sensitive {
            if self.query_sensitive.len() < MAX_QUERY_PARAMS
                || self.query_sensitive.contains_key(&name)
            {
                *self.query_sensitive.entry(name).or_default() |= classes;
            }
        }
        match (&mut self.ai, other.ai) {
            (Some(mine), Some(theirs)) => mine.merge(theirs),
            (mine @ None, theirs) => *mine = theirs,
            (Some(_), None) => {}
        }
        // gRPC endpoints are never re-templated; one only meets another endpoint under its
        // own path (HTTP/1 traffic to the same path), whose calls are no gRPC calls to add.
        if self.grpc.is_none() {
            self.grpc = other.grpc;
        }
        for r in replaced.into_iter().chain(other.replaced) {
            if self.replaced.len() < MAX_REPLACED && !self.replaced.contains(&r) {
                self.replaced.push(r);
            }
        }
    }

    /// The kinds each path parameter took, by name.
    pub fn parameters(&self) -> impl Iterator<Item = (&str, Vec<SegmentKind>)> {
        self.template
            .params
            .iter()
            .map(|(name, kinds)| (name.as_str(), kinds.iter().collect()))
    }
}

/// Counts one more under `key` (see [`slot`]).
fn bump<K, Q>(map: &mut BTreeMap<K, u64>, key: &Q, cap: usize)
where
    K: Borrow<Q> + Ord,
    Q: ToOwned<Owned = K> + Ord + ?Sized,
{
    if let Some(n) = slot(map, key, cap) {
        *n += 1;
    }
}

/// `key`'s value, a new (default) one only while `map` holds fewer than `cap` keys: a bounded
/// tally, beyond whose cap new keys are not kept.
fn slot<'m, K, Q, V>(map: &'m mut BTreeMap<K, V>, key: &Q, cap: usize) -> Option<&'m mut V>
where
    K: Borrow<Q> + Ord,
    Q: ToOwned<Owned = K> + Ord + ?Sized,
    V: Default,
{
    if !map.contains_key(key) {
        if map.len() >= cap {
            return None;
        }
        map.insert(key.to_owned(), V::default());
    }
    map.get_mut(key)
}

/// `application/json; charset=utf-8` → `application/json`.
fn media_type(content_type: &str) -> String {
    let media = content_type.split(';').next().unwrap_or("").trim();
    if media.len() > 100 {
        return String::new();
    }
    media.to_ascii_lowercase()
}

#[cfg(test)]
mod tests;
