//! Walking an operation against the schema's shape: the cost it may have before it runs
//! (requested: a page counts its `first`, a list its bound), the cost it had once it ran
//! (actual: a page counts the items it returned), and how deep it goes.

use super::prices::{self, DEFAULT_LIST};
use super::types::SchemaShape;
use async_graphql::parser::types::{ExecutableDocument, Field, FragmentDefinition, Selection, SelectionSet};
use async_graphql::{Name, Positioned, Value, Variables};
use std::collections::HashMap;
use std::convert::Infallible;
use std::rc::Rc;

/// What a walk found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub cost: u64,
    /// Nesting of fields outside introspection (a root field is depth 1).
    pub depth: usize,
    /// Nesting inside `__schema` / `__type`, counted from them.
    pub introspection_depth: usize,
    /// Whether the operation introspects the schema (`__schema` or `__type`).
    pub introspects: bool,
    /// Fields selected once fragments are expanded (a fragment spread twice counts twice).
    pub fields: u64,
}

impl Tally {
    fn join(&mut self, other: Tally) {
        self.cost = self.cost.saturating_add(other.cost);
        self.depth = self.depth.max(other.depth);
        self.introspection_depth = self.introspection_depth.max(other.introspection_depth);
        self.introspects |= other.introspects;
        self.fields = self.fields.saturating_add(other.fields);
    }
}

pub(super) struct Walker<'a> {
    pub shape: &'a SchemaShape,
    pub fragments: &'a HashMap<Name, Positioned<FragmentDefinition>>,
    pub variables: &'a Variables,
    /// The operation's variable defaults, for variables the request did not send.
    pub defaults: HashMap<&'a str, &'a Value>,
    /// Fragments already walked at a page size (a fragment spread a thousand times is walked once).
    memo: HashMap<(&'a str, Option<u64>), Tally>,
    /// Fragments' nesting, once each.
    depths: HashMap<&'a str, usize>,
    /// Fragments being walked (a cycle, which validation refuses, ends here).
    active: Vec<&'a str>,
    /// What counting each selection set on each type takes (`plan`).
    plans: HashMap<(usize, &'a str), Rc<[Step<'a>]>>,
}

/// One selection's part in the actual cost.
enum Step<'a> {
    /// A leaf (or introspection) that costs `cost` when its value is there.
    Fixed { key: &'a str, cost: u64 },
    /// A field whose value is an object, a list of objects or a page: `extra` for the field,
    /// `each` per item of a list or `own` for one object, and the plan of what each selects.
    Objects { key: &'a str, extra: u64, each: u64, own: u64, plan: Rc<[Step<'a>]> },
    Inline { set: &'a SelectionSet, on: &'a str },
    Spread { name: &'a str },
}

impl<'a> Walker<'a> {
    pub fn new(shape: &'a SchemaShape, document: &'a ExecutableDocument, variables: &'a Variables, defaults: HashMap<&'a str, &'a Value>) -> Self {
        Self { shape, fragments: &document.fragments, variables, defaults, memo: HashMap::new(), depths: HashMap::new(), active: Vec::new(), plans: HashMap::new() }
    }

    /// The requested cost and depth of a selection on `ty`, whose lists take `page` items.
    pub fn requested(&mut self, set: &'a SelectionSet, ty: &str, page: Option<u64>) -> Tally {
        let mut tally = Tally::default();
        for selection in &set.items {
            let part = match &selection.node {
                Selection::Field(field) => self.requested_field(&field.node, ty, page),
                Selection::InlineFragment(inline) => {
                    let on = inline.node.type_condition.as_ref().map_or(ty, |c| c.node.on.node.as_str());
                    self.requested(&inline.node.selection_set.node, on, page)
                }
                Selection::FragmentSpread(spread) => self.requested_spread(spread.node.fragment_name.node.as_str(), page),
            };
            tally.join(part);
        }
        tally
    }

    fn requested_spread(&mut self, name: &'a str, page: Option<u64>) -> Tally {
        if let Some(tally) = self.memo.get(&(name, page)) {
            return *tally;
        }
        let Some(fragment) = self.fragments.get(name) else { return Tally::default() };
        if self.active.contains(&name) {
            return Tally::default();
        }
        self.active.push(name);
        let tally = self.requested(&fragment.node.selection_set.node, fragment.node.type_condition.node.on.node.as_str(), page);
        self.active.pop();
        self.memo.insert((name, page), tally);
        tally
    }

    fn requested_field(&mut self, field: &'a Field, parent: &str, page: Option<u64>) -> Tally {
        let name = field.name.node.as_str();
        if let Some(cost) = introspection_cost(field) {
            return match name {
                "__typename" => Tally { depth: 1, fields: 1, ..Tally::default() },
                _ => Tally { cost, introspection_depth: 1 + self.nesting(&field.selection_set.node), introspects: true, fields: 1, ..Tally::default() },
            };
        }
        let Some(shape) = self.shape.types.get(parent).and_then(|t| t.fields.get(name)).cloned() else {
            // not in the schema (validation refuses it): an object of unknown type
            let inner = self.requested(&field.selection_set.node, "", None);
            return Tally { cost: prices::OBJECT.saturating_add(inner.cost), depth: 1 + inner.depth, fields: inner.fields.saturating_add(1), ..inner };
        };
        let (extra, child_page) = {
            let arg = |arg: &str| self.argument(field, arg);
            (self.root_extra(parent) + prices::extra(parent, name, &arg), prices::page(parent, name, &arg, shape.paged))
        };
        if self.shape.types.get(&shape.ty).is_some_and(|t| t.leaf) {
            return Tally { cost: extra, depth: 1, fields: 1, ..Tally::default() };
        }
        let inner = self.requested(&field.selection_set.node, &shape.ty, child_page);
        let each = prices::object(&shape.ty).saturating_add(inner.cost);
        let cost = if shape.list {
            prices::list_length(parent, name).or(page).unwrap_or(DEFAULT_LIST).saturating_mul(each)
        } else if shape.paged {
            prices::PAGE.saturating_add(inner.cost)
        } else {
            each
        };
        Tally { cost: extra.saturating_add(cost), depth: 1 + inner.depth, fields: inner.fields.saturating_add(1), ..inner }
    }

    /// The cost a selection on `ty` had, given the object it produced.
    pub fn actual(&mut self, set: &'a SelectionSet, ty: &'a str, object: &Value) -> u64 {
        let plan = self.plan(set, ty);
        self.run(&plan, object)
    }

    fn run(&mut self, plan: &[Step<'a>], object: &Value) -> u64 {
        let Value::Object(fields) = object else { return 0 };
        let mut cost = 0u64;
        for step in plan {
            let part = match step {
                Step::Fixed { key, cost } => match fields.get(*key) {
                    None | Some(Value::Null) => 0,
                    Some(_) => *cost,
                },
                Step::Objects { key, extra, each, own, plan } => match fields.get(*key) {
                    None | Some(Value::Null) => 0,
                    Some(Value::List(items)) if plan.is_empty() => extra.saturating_add(each.saturating_mul(items.len() as u64)),
                    Some(Value::List(items)) => {
                        items.iter().fold(*extra, |sum, item| sum.saturating_add(*each).saturating_add(self.run(plan, item)))
                    }
                    Some(object) => extra.saturating_add(*own).saturating_add(self.run(plan, object)),
                },
                Step::Inline { set, on } => self.actual(set, on, object),
                Step::Spread { name } => match self.fragments.get(*name) {
                    Some(fragment) if !self.active.contains(name) => {
                        self.active.push(name);
                        let part = self.actual(&fragment.node.selection_set.node, fragment.node.type_condition.node.on.node.as_str(), object);
                        self.active.pop();
                        part
                    }
                    _ => 0,
                },
            };
            cost = cost.saturating_add(part);
        }
        cost
    }

    /// What counting a selection on `ty` takes, worked out once per walk: a page of 50 items
    /// runs the same plan 50 times, and leaves that cost nothing are not looked at.
    fn plan(&mut self, set: &'a SelectionSet, ty: &'a str) -> Rc<[Step<'a>]> {
        let key = (std::ptr::from_ref(set) as usize, ty);
        if let Some(plan) = self.plans.get(&key) {
            return plan.clone();
        }
        let plan: Rc<[Step<'a>]> = set.items.iter().filter_map(|selection| self.step(&selection.node, ty)).collect();
        self.plans.insert(key, plan.clone());
        plan
    }

    fn step(&mut self, selection: &'a Selection, ty: &'a str) -> Option<Step<'a>> {
        let field = match selection {
            Selection::Field(field) => &field.node,
            Selection::InlineFragment(inline) => {
                let on = inline.node.type_condition.as_ref().map_or(ty, |c| c.node.on.node.as_str());
                return Some(Step::Inline { set: &inline.node.selection_set.node, on });
            }
            Selection::FragmentSpread(spread) => return Some(Step::Spread { name: spread.node.fragment_name.node.as_str() }),
        };
        let key = field.response_key().node.as_str();
        if let Some(cost) = introspection_cost(field) {
            return (cost > 0).then_some(Step::Fixed { key, cost });
        }
        let name = field.name.node.as_str();
        let shape = self.shape.types.get(ty)?.fields.get(name)?;
        let extra = {
            let arg = |arg: &str| self.argument(field, arg);
            self.root_extra(ty) + prices::extra(ty, name, &arg)
        };
        if self.shape.types.get(&shape.ty).is_some_and(|t| t.leaf) {
            return (extra > 0).then_some(Step::Fixed { key, cost: extra });
        }
        let own = if shape.paged { prices::PAGE } else { prices::object(&shape.ty) };
        let plan = self.plan(&field.selection_set.node, &shape.ty);
        Some(Step::Objects { key, extra, each: prices::object(&shape.ty), own, plan })
    }

    /// How deep fields nest inside `set` (introspection, whose types the shape does not hold).
    fn nesting(&mut self, set: &'a SelectionSet) -> usize {
        let mut deepest = 0;
        for selection in &set.items {
            let depth = match &selection.node {
                Selection::Field(field) if field.node.selection_set.node.items.is_empty() => 1,
                Selection::Field(field) => 1 + self.nesting(&field.node.selection_set.node),
                Selection::InlineFragment(inline) => self.nesting(&inline.node.selection_set.node),
                Selection::FragmentSpread(spread) => {
                    let name = spread.node.fragment_name.node.as_str();
                    match (self.depths.get(name), self.fragments.get(name)) {
                        (Some(depth), _) => *depth,
                        (None, Some(fragment)) if !self.active.contains(&name) => {
                            self.active.push(name);
                            let depth = self.nesting(&fragment.node.selection_set.node);
                            self.active.pop();
                            self.depths.insert(name, depth);
                            depth
                        }
                        _ => 0,
                    }
                }
            };
            deepest = deepest.max(depth);
        }
        deepest
    }

    /// What a root field of a mutation or subscription costs by being one.
    fn root_extra(&self, parent: &str) -> u64 {
        if parent == self.shape.mutation {
            prices::MUTATION
        } else if parent == self.shape.subscription {
            prices::SUBSCRIPTION
        } else {
            0
        }
    }

    /// An argument's value with the request's variables in it.
    fn argument(&self, field: &Field, name: &str) -> Option<Value> {
        let value = field.get_argument(name)?.node.clone();
        value
            .into_const_with(|variable| {
                Ok::<_, Infallible>(
                    self.variables.get(&variable).or_else(|| self.defaults.get(variable.as_str()).copied()).cloned().unwrap_or(Value::Null),
                )
            })
            .ok()
    }
}

/// `__typename` costs nothing; `__schema` and `__type` a fixed amount, with their own depth.
fn introspection_cost(field: &Field) -> Option<u64> {
    match field.name.node.as_str() {
        "__typename" => Some(0),
        "__schema" => Some(prices::INTROSPECTION_SCHEMA),
        "__type" => Some(prices::INTROSPECTION_TYPE),
        _ => None,
    }
}
