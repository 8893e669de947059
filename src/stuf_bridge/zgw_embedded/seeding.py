"""Loading a catalogue YAML into the store: ``seed(data_dir, catalogue_yaml)``.

The format: a top-level ``zaaktypen`` list (and an optional ``catalogus`` mapping). Each zaaktype needs
``identificatie`` and ``omschrijving`` and lists ``statustypen`` (``volgnummer``, ``omschrijving``), ``roltypen``
(``omschrijving``, ``omschrijvingGeneriek``), ``resultaattypen`` (``omschrijving``), ``informatieobjecttypen``
(``omschrijving``), ``besluittypen`` (``omschrijving``) and ``eigenschappen`` (``naam``). Every other key of the
Catalogi API may be given and has a default (see ``_DEFAULTS``). Unknown keys are refused, so a typo does not pass.

Seeding is idempotent: every item gets a UUID derived from its natural key (catalogus domein + rsin, zaaktype
identificatie, statustype volgnummer, roltype/resultaattype/informatieobjecttype/besluittype omschrijving,
eigenschap naam), so a second run finds and compares the same rows. Items are published (``concept: false``).
Informatieobjecttypen and besluittypen belong to the catalogus and are shared by omschrijving between zaaktypen.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml

from .checks import rsin_error
from .db import Database, Where
from .refs import ref

NAMESPACE = uuid.UUID("6f1c5f0e-3b7e-4d8e-9a55-2b9c1c0d7a11")
SELECTIELIJST = "https://selectielijst.openzaak.nl/api/v1/"
DEFAULT_PROCESTYPE = SELECTIELIJST + "procestypen/aa8aa2fd-b9c6-4e34-9a6c-58a677f60ea0"
DEFAULT_RESULTAAT = SELECTIELIJST + "resultaten/cc5ae4e3-a9e6-4386-bcee-46be4986a829"
DEFAULT_RESULTAATTYPEOMSCHRIJVING = SELECTIELIJST + "resultaattypeomschrijvingen/e6a0c939-3404-45b0-88e3-76c94fb80ea7"

VERTROUWELIJKHEID = ("openbaar", "beperkt_openbaar", "intern", "zaakvertrouwelijk", "vertrouwelijk",
                     "confidentieel", "geheim", "zeer_geheim")
ROL_GENERIEK = ("adviseur", "behandelaar", "belanghebbende", "beslisser", "initiator", "klantcontacter",
                "zaakcoordinator", "mede_initiator")
AFLEIDINGSWIJZE = ("afgehandeld", "ander_datumkenmerk", "eigenschap", "gerelateerde_zaak", "hoofdzaak",
                   "ingangsdatum_besluit", "termijn", "vervaldatum_besluit", "zaakobject")

# item kind → key → (default, max length or allowed values or None); "!" marks the keys the brief requires
_DEFAULTS: dict[str, dict[str, tuple[Any, Any]]] = {
    "catalogus": {
        "domein": ("DEMO", 5), "rsin": ("002564440", None), "naam": ("Demo-catalogus", 200),
        "versie": ("1", 20), "contactpersoonBeheerNaam": ("Beheerder", 40),
        "contactpersoonBeheerTelefoonnummer": ("", 20),
        "contactpersoonBeheerEmailadres": ("beheer@example.com", 254),
        "begindatumVersie": ("2020-01-01", None),
    },
    "zaaktype": {
        "identificatie": ("!", 50), "omschrijving": ("!", 80), "omschrijvingGeneriek": ("", 80),
        "vertrouwelijkheidaanduiding": ("openbaar", VERTROUWELIJKHEID), "doel": (None, None),
        "aanleiding": (None, None), "toelichting": ("", None),
        "indicatieInternOfExtern": ("extern", ("intern", "extern")),
        "handelingInitiator": ("indienen", 20), "onderwerp": (None, 80), "handelingBehandelaar": ("behandelen", 20),
        "doorlooptijd": ("P8W", None), "servicenorm": (None, None), "opschortingEnAanhoudingMogelijk": (False, None),
        "verlengingMogelijk": (False, None), "verlengingstermijn": (None, None), "trefwoorden": ([], None),
        "publicatieIndicatie": (False, None), "publicatietekst": ("", None), "verantwoordingsrelatie": ([], None),
        "productenOfDiensten": ([], None), "selectielijstProcestype": (DEFAULT_PROCESTYPE, None),
        "referentieproces": (None, None), "verantwoordelijke": ("Gemeente", 50),
        "beginGeldigheid": ("2020-01-01", None),
        "eindeGeldigheid": (None, None), "versiedatum": (None, None), "deelzaaktypen": ([], None),
        "gerelateerdeZaaktypen": ([], None), "statustypen": ([], None), "roltypen": ([], None),
        "resultaattypen": ([], None), "informatieobjecttypen": ([], None), "besluittypen": ([], None),
        "eigenschappen": ([], None),
    },
    "statustype": {
        "volgnummer": ("!", None), "omschrijving": ("!", 80), "omschrijvingGeneriek": ("", 80),
        "statustekst": ("", 1000), "informeren": (False, None), "doorlooptijd": (None, None),
        "toelichting": (None, 1000),
    },
    "roltype": {"omschrijving": ("!", 100), "omschrijvingGeneriek": ("!", ROL_GENERIEK)},
    "resultaattype": {
        "omschrijving": ("!", 30), "omschrijvingGeneriek": (None, None), "toelichting": ("", None),
        "resultaattypeomschrijving": (DEFAULT_RESULTAATTYPEOMSCHRIJVING, None),
        "selectielijstklasse": (DEFAULT_RESULTAAT, None),
        "archiefnominatie": ("vernietigen", ("blijvend_bewaren", "vernietigen")),
        "archiefactietermijn": ("P10Y", None), "afleidingswijze": ("afgehandeld", AFLEIDINGSWIJZE),
        "procestermijn": (None, None),
    },
    "informatieobjecttype": {
        "omschrijving": ("!", 80), "vertrouwelijkheidaanduiding": ("openbaar", VERTROUWELIJKHEID),
        "informatieobjectcategorie": ("Overig", 80), "trefwoord": ([], None),
        "richting": ("inkomend", ("inkomend", "intern", "uitgaand")),
    },
    "besluittype": {
        "omschrijving": ("!", 80), "omschrijvingGeneriek": ("", 80), "besluitcategorie": ("", 40),
        "reactietermijn": (None, None), "publicatieIndicatie": (False, None), "publicatietekst": ("", None),
        "publicatietermijn": (None, None), "toelichting": ("", None),
    },
    "eigenschap": {
        "naam": ("!", 20), "definitie": (None, 255), "toelichting": ("", 1000), "formaat": ("tekst",
        ("tekst", "getal", "datum", "datum_tijd")), "lengte": ("255", 14), "kardinaliteit": ("1", 3),
        "waardenverzameling": ([], None), "groep": ("", 32),
    },
}


class SeedError(ValueError):
    """A catalogue YAML that cannot be loaded; the message names the item and the key."""


@dataclass
class SeedReport:
    """What a seed run did, per kind: ``created``, ``updated`` and ``unchanged`` counts."""

    created: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    updated: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    unchanged: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    zaaktypen: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(sum(self.created.values()) or sum(self.updated.values()))

    def __str__(self) -> str:
        kinds = sorted(set(self.created) | set(self.updated) | set(self.unchanged))
        parts = [f"{k}: {self.created.get(k, 0)} created, {self.updated.get(k, 0)} updated, "
                 f"{self.unchanged.get(k, 0)} unchanged" for k in kinds]
        return f"seeded zaaktypen {', '.join(self.zaaktypen) or '-'}\n" + "\n".join(parts)


def seed(data_dir: Path, catalogue_yaml: Path) -> SeedReport:
    """Load a catalogue YAML into the store in ``data_dir/zgw/`` (synchronous; safe to run twice)."""
    data = load_yaml(Path(catalogue_yaml))
    database = Database(Path(data_dir) / "zgw" / "zgw.sqlite3")
    try:
        return seed_into(database, data)
    finally:
        database.close()


def load_yaml(path: Path) -> dict[str, Any]:
    try:
        with path.open(encoding="utf-8") as fh:
            data = yaml.safe_load(fh)
    except OSError as exc:
        raise SeedError(f"{path}: cannot read the catalogue: {exc}") from exc
    except yaml.YAMLError as exc:
        raise SeedError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("zaaktypen"), list):
        raise SeedError(f"{path}: expected a mapping with a 'zaaktypen' list at the top")
    unknown = set(data) - {"zaaktypen", "catalogus"}
    if unknown:
        raise SeedError(f"{path}: unknown top-level keys {sorted(unknown)}; use 'zaaktypen' and 'catalogus'")
    return data


def _item(kind: str, raw: Any, where: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise SeedError(f"{where}: expected a mapping, got {type(raw).__name__}")
    spec = _DEFAULTS[kind]
    unknown = set(raw) - set(spec)
    if unknown:
        raise SeedError(f"{where}: unknown keys {sorted(unknown)}; allowed: {sorted(spec)}")
    out: dict[str, Any] = {}
    for key, (default, rule) in spec.items():
        if key not in raw or raw[key] is None:
            if default == "!":
                raise SeedError(f"{where}: '{key}' is required")
            out[key] = list(default) if isinstance(default, list) else default
            continue
        value = raw[key]
        if isinstance(value, (date, datetime)):
            value = value.isoformat()
        if isinstance(default, list) and not isinstance(value, list):
            raise SeedError(f"{where}: '{key}' must be a list")
        if isinstance(default, bool) and not isinstance(value, bool):
            raise SeedError(f"{where}: '{key}' must be true or false")
        if isinstance(value, (int, float)) and not isinstance(value, bool) and key not in ("volgnummer", "lengte"):
            value = str(value)
        if isinstance(rule, int) and isinstance(value, str) and len(value) > rule:
            raise SeedError(f"{where}: '{key}' is longer than {rule} characters")
        if isinstance(rule, tuple) and value not in rule:
            raise SeedError(f"{where}: '{key}' must be one of {list(rule)}, not {value!r}")
        if value == "" and default == "!":
            raise SeedError(f"{where}: '{key}' may not be empty")
        out[key] = value
    return out


def _uid(*key: Any) -> str:
    return str(uuid.uuid5(NAMESPACE, "/".join(str(k) for k in key)))


class _Writer:
    def __init__(self, database: Database, report: SeedReport) -> None:
        self.db = database
        self.report = report
        self.seen: set[str] = set()

    def put(self, table: str, doc: dict[str, Any], derived: tuple[str, ...] = ()) -> None:
        existing = self.db.get(table, doc["uuid"])
        first = doc["uuid"] not in self.seen
        self.seen.add(doc["uuid"])
        if existing is not None:
            for key in derived:
                if key in existing:
                    doc[key] = existing[key]
        if existing is None:
            self.db.insert(table, doc)
            self.report.created[table] += first
        elif existing != doc:
            self.db.update(table, doc)
            self.report.updated[table] += first
        else:
            self.report.unchanged[table] += first


def _catalogus(database: Database, given: Any) -> dict[str, Any]:
    """The catalogus a seed run writes: seeding again only adds or updates what the file names. Without a
    ``catalogus`` section the zaaktypen go to the one catalogus the store holds, unchanged (the defaults only make a
    catalogus in an empty store); a section that names some keys of an existing catalogus (same domein and rsin)
    changes those keys and keeps the others."""
    existing = database.find("catalogus")
    if not given and len(existing) == 1:
        given = {key: existing[0][key] for key in _DEFAULTS["catalogus"] if key in existing[0]}
    cat = _item("catalogus", given, "catalogus")
    if isinstance(given, dict):
        current = database.get("catalogus", _uid("catalogus", cat["domein"], cat["rsin"]))
        if current is not None:
            for key in _DEFAULTS["catalogus"]:
                if key not in given and key in current:
                    cat[key] = current[key]
    return cat


def seed_into(database: Database, data: dict[str, Any]) -> SeedReport:
    report = SeedReport()
    writer = _Writer(database, report)
    cat = _catalogus(database, data.get("catalogus") or {})
    problem = rsin_error(str(cat["rsin"]))
    if problem:
        raise SeedError(f"catalogus: 'rsin' {cat['rsin']!r} is not a valid RSIN ({problem[1]})")
    zaaktypen = []
    seen: set[str] = set()
    for i, raw in enumerate(data["zaaktypen"]):
        label = f"zaaktypen[{i}]"
        if isinstance(raw, dict) and raw.get("identificatie"):
            label += f" (identificatie {raw['identificatie']!r})"
        zt = _item("zaaktype", raw, label)
        zt["identificatie"] = str(zt["identificatie"])
        if zt["identificatie"] in seen:
            raise SeedError(f"{label}: identificatie {zt['identificatie']!r} occurs twice")
        seen.add(zt["identificatie"])
        subs = {}
        for key, kind in (("statustypen", "statustype"), ("roltypen", "roltype"), ("resultaattypen", "resultaattype"),
                          ("informatieobjecttypen", "informatieobjecttype"), ("besluittypen", "besluittype"),
                          ("eigenschappen", "eigenschap")):
            items = []
            names: set[Any] = set()
            for j, raw_sub in enumerate(zt[key]):
                sub_label = f"{label}.{key}[{j}]"
                item = _item(kind, raw_sub, sub_label)
                natural = item.get("volgnummer", item.get("omschrijving", item.get("naam")))
                if kind == "statustype" and (not isinstance(natural, int) or isinstance(natural, bool)
                                             or not 1 <= natural <= 9999):
                    raise SeedError(f"{sub_label}: 'volgnummer' must be a whole number from 1 to 9999")
                if natural in names:
                    raise SeedError(f"{sub_label}: {natural!r} occurs twice in this zaaktype")
                names.add(natural)
                items.append(item)
            subs[key] = items
        zaaktypen.append((label, zt, subs))
    for label, zt, _ in zaaktypen:
        for ident in zt["deelzaaktypen"]:
            if str(ident) not in seen:
                raise SeedError(f"{label}: deelzaaktype {ident!r} is not a zaaktype in this file")

    with database.tx():
        cat_uuid = _uid("catalogus", cat["domein"], cat["rsin"])
        cat_ref = ref("catalogus", cat_uuid)
        writer.put("catalogus", {
            "uuid": cat_uuid, "url": cat_ref, "domein": cat["domein"], "rsin": str(cat["rsin"]),
            "contactpersoonBeheerNaam": cat["contactpersoonBeheerNaam"],
            "contactpersoonBeheerTelefoonnummer": cat["contactpersoonBeheerTelefoonnummer"],
            "contactpersoonBeheerEmailadres": cat["contactpersoonBeheerEmailadres"],
            "zaaktypen": [], "besluittypen": [], "informatieobjecttypen": [], "naam": cat["naam"],
            "versie": str(cat["versie"]), "begindatumVersie": str(cat["begindatumVersie"]),
        }, derived=("zaaktypen", "besluittypen", "informatieobjecttypen"))
        zt_refs = {zt["identificatie"]: ref("zaaktype", _uid("zaaktype", cat_uuid, zt["identificatie"]))
                   for _, zt, _ in zaaktypen}
        for _, zt, subs in zaaktypen:
            _write_zaaktype(writer, cat_uuid, cat_ref, zt, subs, zt_refs)
            report.zaaktypen.append(zt["identificatie"])
        _refresh_catalogus(database, cat_uuid)
    return report


_ZT_DERIVED = ("statustypen", "resultaattypen", "eigenschappen", "informatieobjecttypen", "roltypen")


def _write_zaaktype(writer: _Writer, cat_uuid: str, cat_ref: str, zt: dict[str, Any], subs: dict[str, list[Any]],
                    zt_refs: dict[str, str]) -> None:
    ident = zt["identificatie"]
    zt_uuid = _uid("zaaktype", cat_uuid, ident)
    zt_ref = ref("zaaktype", zt_uuid)
    begin = str(zt["beginGeldigheid"])
    common = {"catalogus": cat_ref, "zaaktypeIdentificatie": ident, "_concept": False}
    period = {"beginGeldigheid": None, "eindeGeldigheid": None, "beginObject": begin, "eindeObject": None}

    besluittype_refs = []
    for bt in subs["besluittypen"]:
        bt_uuid = _uid("besluittype", cat_uuid, bt["omschrijving"])
        besluittype_refs.append(ref("besluittype", bt_uuid))
        writer.put("besluittype", {
            "uuid": bt_uuid, "url": ref("besluittype", bt_uuid), "catalogus": cat_ref, "zaaktypen": [],
            "omschrijving": bt["omschrijving"], "omschrijvingGeneriek": bt["omschrijvingGeneriek"],
            "besluitcategorie": bt["besluitcategorie"], "reactietermijn": bt["reactietermijn"],
            "publicatieIndicatie": bt["publicatieIndicatie"], "publicatietekst": bt["publicatietekst"],
            "publicatietermijn": bt["publicatietermijn"], "toelichting": bt["toelichting"],
            "informatieobjecttypen": [], "beginGeldigheid": begin, "eindeGeldigheid": None, "beginObject": begin,
            "eindeObject": None, "concept": False, "resultaattypen": [], "resultaattypenOmschrijving": [],
            "vastgelegdIn": [],
        }, derived=("zaaktypen", "informatieobjecttypen"))

    writer.put("zaaktype", {
        "uuid": zt_uuid, "url": zt_ref, "identificatie": ident, "omschrijving": zt["omschrijving"],
        "omschrijvingGeneriek": zt["omschrijvingGeneriek"],
        "vertrouwelijkheidaanduiding": zt["vertrouwelijkheidaanduiding"],
        "doel": zt["doel"] or zt["omschrijving"], "aanleiding": zt["aanleiding"] or zt["omschrijving"],
        "toelichting": zt["toelichting"], "indicatieInternOfExtern": zt["indicatieInternOfExtern"],
        "handelingInitiator": zt["handelingInitiator"], "onderwerp": zt["onderwerp"] or zt["omschrijving"],
        "handelingBehandelaar": zt["handelingBehandelaar"], "doorlooptijd": zt["doorlooptijd"],
        "servicenorm": zt["servicenorm"], "opschortingEnAanhoudingMogelijk": zt["opschortingEnAanhoudingMogelijk"],
        "verlengingMogelijk": zt["verlengingMogelijk"],
        "verlengingstermijn": zt["verlengingstermijn"] or ("P4W" if zt["verlengingMogelijk"] else None),
        "trefwoorden": [str(t) for t in zt["trefwoorden"]], "publicatieIndicatie": zt["publicatieIndicatie"],
        "publicatietekst": zt["publicatietekst"], "verantwoordingsrelatie": list(zt["verantwoordingsrelatie"]),
        "productenOfDiensten": list(zt["productenOfDiensten"]),
        "selectielijstProcestype": zt["selectielijstProcestype"],
        "referentieproces": zt["referentieproces"] or {"naam": zt["omschrijving"][:80], "link": ""},
        "verantwoordelijke": zt["verantwoordelijke"], "zaakobjecttypen": [], "catalogus": cat_ref,
        "statustypen": [], "resultaattypen": [], "eigenschappen": [], "informatieobjecttypen": [], "roltypen": [],
        "besluittypen": besluittype_refs,
        "deelzaaktypen": [zt_refs[str(d)] for d in zt["deelzaaktypen"]],
        "gerelateerdeZaaktypen": [
            {"zaaktype": zt_refs.get(str(g.get("zaaktype")), str(g.get("zaaktype", ""))),
             "aardRelatie": g.get("aardRelatie", "vervolg"), "toelichting": g.get("toelichting", "")}
            for g in zt["gerelateerdeZaaktypen"] if isinstance(g, dict)
        ],
        "beginGeldigheid": begin, "eindeGeldigheid": zt["eindeGeldigheid"], "beginObject": begin,
        "eindeObject": zt["eindeGeldigheid"],
        "versiedatum": str(zt["versiedatum"] or begin), "concept": False,
    }, derived=_ZT_DERIVED)

    for st in subs["statustypen"]:
        st_uuid = _uid("statustype", zt_uuid, st["volgnummer"])
        writer.put("statustype", {
            "uuid": st_uuid, "url": ref("statustype", st_uuid), "omschrijving": st["omschrijving"],
            "omschrijvingGeneriek": st["omschrijvingGeneriek"], "statustekst": st["statustekst"], "zaaktype": zt_ref,
            **common, "volgnummer": st["volgnummer"], "isEindstatus": False, "informeren": st["informeren"],
            "doorlooptijd": st["doorlooptijd"], "toelichting": st["toelichting"], "checklistitemStatustype": [],
            "eigenschappen": [], "zaakobjecttypen": [], "zaakobjecttype": "", **period,
        }, derived=("isEindstatus",))
    for rt in subs["roltypen"]:
        rt_uuid = _uid("roltype", zt_uuid, rt["omschrijving"])
        writer.put("roltype", {
            "uuid": rt_uuid, "url": ref("roltype", rt_uuid), "zaaktype": zt_ref, **common,
            "omschrijving": rt["omschrijving"], "omschrijvingGeneriek": rt["omschrijvingGeneriek"], **period,
        })
    for res in subs["resultaattypen"]:
        res_uuid = _uid("resultaattype", zt_uuid, res["omschrijving"])
        writer.put("resultaattype", {
            "uuid": res_uuid, "url": ref("resultaattype", res_uuid), "zaaktype": zt_ref, **common,
            "omschrijving": res["omschrijving"], "resultaattypeomschrijving": res["resultaattypeomschrijving"],
            "omschrijvingGeneriek": res["omschrijvingGeneriek"] or res["omschrijving"],
            "selectielijstklasse": res["selectielijstklasse"], "toelichting": res["toelichting"],
            "archiefnominatie": res["archiefnominatie"], "archiefactietermijn": res["archiefactietermijn"],
            "brondatumArchiefprocedure": {
                "afleidingswijze": res["afleidingswijze"], "datumkenmerk": "", "einddatumBekend": False,
                "objecttype": "", "registratie": "", "procestermijn": res["procestermijn"],
            },
            "procesobjectaard": "", "indicatieSpecifiek": None, "procestermijn": res["procestermijn"],
            "besluittypen": [], "besluittypeOmschrijving": [], "informatieobjecttypen": [],
            "informatieobjecttypeOmschrijving": [], "zaakobjecttypen": [], **period,
        })
    for eg in subs["eigenschappen"]:
        eg_uuid = _uid("eigenschap", zt_uuid, eg["naam"])
        writer.put("eigenschap", {
            "uuid": eg_uuid, "url": ref("eigenschap", eg_uuid), "naam": eg["naam"],
            "definitie": eg["definitie"] or eg["naam"],
            "specificatie": {"groep": eg["groep"], "formaat": eg["formaat"], "lengte": str(eg["lengte"]),
                             "kardinaliteit": str(eg["kardinaliteit"]),
                             "waardenverzameling": [str(w) for w in eg["waardenverzameling"]]},
            "toelichting": eg["toelichting"], "zaaktype": zt_ref, **common, "statustype": None, **period,
        })
    for volgnummer, iot in enumerate(subs["informatieobjecttypen"], start=1):
        iot_uuid = _uid("informatieobjecttype", cat_uuid, iot["omschrijving"])
        iot_ref = ref("informatieobjecttype", iot_uuid)
        writer.put("informatieobjecttype", {
            "uuid": iot_uuid, "url": iot_ref, "catalogus": cat_ref, "omschrijving": iot["omschrijving"],
            "vertrouwelijkheidaanduiding": iot["vertrouwelijkheidaanduiding"], "beginGeldigheid": begin,
            "eindeGeldigheid": None, "beginObject": begin, "eindeObject": None, "concept": False,
            "zaaktypen": [], "besluittypen": [], "informatieobjectcategorie": iot["informatieobjectcategorie"],
            "trefwoord": [str(t) for t in iot["trefwoord"]],
            "omschrijvingGeneriek": {
                "informatieobjecttypeOmschrijvingGeneriek": "", "definitieInformatieobjecttypeOmschrijvingGeneriek": "",
                "herkomstInformatieobjecttypeOmschrijvingGeneriek": "",
                "hierarchieInformatieobjecttypeOmschrijvingGeneriek": "",
                "opmerkingInformatieobjecttypeOmschrijvingGeneriek": "",
            },
        }, derived=("zaaktypen", "besluittypen"))
        ziot_uuid = _uid("ziot", zt_uuid, iot_uuid)
        writer.put("zaaktypeinformatieobjecttype", {
            "uuid": ziot_uuid, "url": ref("zaaktypeinformatieobjecttype", ziot_uuid), "zaaktype": zt_ref,
            "zaaktypeIdentificatie": ident, "catalogus": cat_ref, "informatieobjecttype": iot_ref,
            "volgnummer": volgnummer, "richting": iot["richting"], "statustype": None, "_concept": False,
        })


def _refs(rows: list[dict[str, Any]]) -> list[str]:
    return [r["url"] for r in rows]


def _refresh_catalogus(database: Database, cat_uuid: str) -> None:
    """Recompute every derived list of the catalogus from what the store holds (this run and earlier ones)."""
    cat_ref = ref("catalogus", cat_uuid)

    def update(table: str, doc: dict[str, Any], **derived: Any) -> None:
        new = {**doc, **derived}
        if new != doc:
            database.update(table, new)

    zaaktypen = database.find("zaaktype", catalogus=cat_ref)
    besluittypen = database.find("besluittype", catalogus=cat_ref)
    iots = database.find("informatieobjecttype", catalogus=cat_ref)
    ziots = database.select(Where("zaaktypeinformatieobjecttype").raw(
        "json_extract(data, '$.catalogus') = ?", cat_ref))
    iots_of_zt: dict[str, list[str]] = defaultdict(list)
    zts_of_iot: dict[str, list[str]] = defaultdict(list)
    for z in sorted(ziots, key=lambda d: (d["zaaktype"], d["volgnummer"])):
        iots_of_zt[z["zaaktype"]].append(z["informatieobjecttype"])
        zts_of_iot[z["informatieobjecttype"]].append(z["zaaktype"])
    zts_of_bt: dict[str, list[str]] = defaultdict(list)
    iots_of_bt: dict[str, list[str]] = defaultdict(list)
    for zt in zaaktypen:
        for bt in zt["besluittypen"]:
            zts_of_bt[bt].append(zt["url"])
            for iot in iots_of_zt[zt["url"]]:
                if iot not in iots_of_bt[bt]:
                    iots_of_bt[bt].append(iot)
    bts_of_iot: dict[str, list[str]] = defaultdict(list)
    for bt, iot_list in iots_of_bt.items():
        for iot in iot_list:
            bts_of_iot[iot].append(bt)

    for zt in zaaktypen:
        statustypen = sorted(database.find("statustype", zaaktype=zt["url"]), key=lambda d: d["volgnummer"])
        for st in statustypen:
            update("statustype", st, isEindstatus=st is statustypen[-1])
        update("zaaktype", zt,
               statustypen=_refs(statustypen),
               resultaattypen=_refs(database.find("resultaattype", zaaktype=zt["url"])),
               eigenschappen=_refs(database.find("eigenschap", zaaktype=zt["url"])),
               roltypen=_refs(database.find("roltype", zaaktype=zt["url"])),
               informatieobjecttypen=iots_of_zt[zt["url"]])
    for bt in besluittypen:
        update("besluittype", bt, zaaktypen=zts_of_bt[bt["url"]], informatieobjecttypen=iots_of_bt[bt["url"]])
    for iot_doc in iots:
        update("informatieobjecttype", iot_doc, zaaktypen=zts_of_iot[iot_doc["url"]],
               besluittypen=bts_of_iot[iot_doc["url"]])
    catalogus = database.get("catalogus", cat_uuid)
    assert catalogus is not None
    update("catalogus", catalogus, zaaktypen=_refs(zaaktypen), besluittypen=_refs(besluittypen),
           informatieobjecttypen=_refs(iots))


__all__ = ["SeedError", "SeedReport", "load_yaml", "seed", "seed_into"]
