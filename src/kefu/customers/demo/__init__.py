"""Realistic demo customers for an industry profile (`kefu init --profile X --demo`).

`generate_customers` is a deterministic, database-free generator (fixed seed): Chinese
person names with the polyphonic surnames the search demo needs (单 曾 解 仇 区),
organisations with valid unified social credit codes, valid resident ID numbers, unique
mobile numbers, the profile's regions, classes, grades, sources, categories, tags,
custom-field values and points. `demo_customers_load` writes them in a handful of bulk
queries; the benchmark in `bench/` reuses the generator for a million rows.

Modules: `generator`, `vocabulary` (the words it draws from), `identifiers` (ID numbers,
credit codes, mobile numbers) and `loading` (writing them). Import from here."""

from kefu.customers.demo.generator import DemoContact, DemoCustomer, generate_customers
from kefu.customers.demo.identifiers import MOBILE_PREFIXES, USCC_ALPHABET, credit_code, mobile_number, resident_id
from kefu.customers.demo.loading import (
    DEMO_COUNT,
    DEMO_MARKER,
    demo_customers_exist,
    demo_customers_load,
    demo_owners,
    insert_customers,
)
from kefu.customers.demo.vocabulary import (
    ANCHOR_NAMES,
    BRAND_WORDS,
    CLINIC_CONSULTANTS,
    CLINIC_HIDDEN_NEEDS,
    CLINIC_RELATIONSHIP,
    CLINIC_TREATMENTS,
    COMMUNITIES,
    CONSENT_CHANNELS,
    EXPRESSWAYS,
    FEMALE_GIVEN,
    FOLLOWUPS,
    MALE_GIVEN,
    MANUFACTURING_CATEGORY_BY_NATURE,
    MANUFACTURING_MODELS,
    NOTES,
    ORG_ROLES,
    ORG_TEMPLATES,
    STREETS,
    SURNAMES,
    TOLL_PLACES,
)

__all__ = [
    "ANCHOR_NAMES",
    "BRAND_WORDS",
    "CLINIC_CONSULTANTS",
    "CLINIC_HIDDEN_NEEDS",
    "CLINIC_RELATIONSHIP",
    "CLINIC_TREATMENTS",
    "COMMUNITIES",
    "CONSENT_CHANNELS",
    "DEMO_COUNT",
    "DEMO_MARKER",
    "DemoContact",
    "DemoCustomer",
    "EXPRESSWAYS",
    "FEMALE_GIVEN",
    "FOLLOWUPS",
    "MALE_GIVEN",
    "MANUFACTURING_CATEGORY_BY_NATURE",
    "MANUFACTURING_MODELS",
    "MOBILE_PREFIXES",
    "NOTES",
    "ORG_ROLES",
    "ORG_TEMPLATES",
    "STREETS",
    "SURNAMES",
    "TOLL_PLACES",
    "USCC_ALPHABET",
    "credit_code",
    "demo_customers_exist",
    "demo_customers_load",
    "demo_owners",
    "generate_customers",
    "insert_customers",
    "mobile_number",
    "resident_id",
]
