"""The one metric catalogue: every metric sobriety exposes is declared here, once.

Profiles, collectors and the exposition refer to metrics by name; a name or a label that is
not declared here is an error when profiles load and when samples are exposed. The README's
metric table is generated from this module (`sobriety.gen.metric_docs`), and a test fails
if it drifts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

MetricKind = Literal["gauge", "counter", "info"]


@dataclass(frozen=True, slots=True)
class MetricSpec:
    """One metric: full exposed name, kind, unit, help text and the labels it may carry."""

    name: str
    kind: MetricKind
    help: str
    labels: tuple[str, ...]
    unit: str = ""
    group: str = "core"
    optional_labels: tuple[str, ...] = ()  # present only when configured

    @property
    def family_name(self) -> str:
        """Name without the `_total` / `_info` suffix that the client library appends."""
        if self.kind == "counter":
            return self.name.removesuffix("_total")
        if self.kind == "info":
            return self.name.removesuffix("_info")
        return self.name


def _m(
    name: str,
    kind: MetricKind,
    help_: str,
    labels: tuple[str, ...],
    unit: str = "",
    group: str = "core",
    optional_labels: tuple[str, ...] = (),
) -> MetricSpec:
    return MetricSpec(name, kind, help_, labels, unit, group, optional_labels)


T = ("target",)
# polling's own cost is summed over targets by default (settings.self_metrics)
SUMMED = " Summed over targets (no `target`) unless settings.self_metrics is per_target."

METRICS: tuple[MetricSpec, ...] = (
    # --- targets and devices -------------------------------------------------------------
    _m("sobriety_target_up", "gauge", "1 if the last poll of the target succeeded, else 0.", T),
    _m(
        "sobriety_target_down_info",
        "info",
        "Present while a target is down; `reason` says why (bounded set).",
        ("target", "reason"),
    ),
    _m(
        "sobriety_device_info",
        "info",
        "Identity of a device: where it is (organisation, site, building, room: the first "
        "and the last two only when configured), what it is (labels), always 1.",
        (
            "target",
            "site",
            "class",
            "kind",
            "vendor",
            "model",
            "serial",
            "firmware",
            "sysobjectid",
            "organisation",
            "building",
            "room",
        ),
        optional_labels=("organisation", "building", "room"),
    ),
    _m(
        "sobriety_device_identity_origin_info",
        "info",
        "Where each identity fact of sobriety_device_info (`fact`: vendor, model, serial, "
        "firmware) came from: `origin` is profile/field (entity/model, system/sysdescr...), "
        "profile:NAME (a profile's declared vendor), iana-pen (sysObjectID's enterprise "
        "number) or iana-pen-subtree (the first maker's private subtree the agent serves).",
        ("target", "fact", "origin"),
    ),
    _m(
        "sobriety_device_profile_info",
        "info",
        "One series per device profile matched for a target.",
        ("target", "profile"),
    ),
    _m(
        "sobriety_device_uptime_seconds",
        "gauge",
        "Uptime of the device (host uptime where known, else SNMP agent uptime).",
        T,
        "seconds",
    ),
    _m(
        "sobriety_device_snmp_engine_boots",
        "gauge",
        "snmpEngineBoots: how many times the device's SNMP engine has (re)started, as it counts.",
        T,
        group="lifetime",
    ),
    _m(
        "sobriety_device_first_seen_timestamp_seconds",
        "gauge",
        "When sobriety first saw the target answer (persisted across restarts).",
        T,
        "seconds",
    ),
    _m(
        "sobriety_device_power_watts",
        "gauge",
        "Electrical power drawn by the device itself; `source` is measured or estimated, "
        "`basis` what it rests on (measured, state: estimated from an observed state, "
        "assumed: a class figure with no state observed), `origin` the object or model.",
        ("target", "source", "origin", "basis"),
        "watts",
        "energy",
    ),
    _m(
        "sobriety_device_power_band_watts",
        "gauge",
        "Uncertainty band of the device's power reading (`bound` low or high); equal to the "
        "reading when measured.",
        ("target", "bound"),
        "watts",
        "energy",
    ),
    _m(
        "sobriety_device_energy_joules_total",
        "counter",
        "Energy the device used, integrated from its readings (trapezoid), by source and "
        "basis; gaps are not filled in. Persisted across restarts.",
        ("target", "source", "basis"),
        "joules",
        "energy",
    ),
    _m(
        "sobriety_energy_gaps_total",
        "counter",
        "Intervals between two readings too long to integrate (no energy made up for them).",
        T,
        group="energy",
    ),
    _m(
        "sobriety_site_energy_joules_total",
        "counter",
        "Energy per site and device class by source: each device counted once, at itself "
        "(PoE, outlets and UPS output counted at the devices they feed); class "
        "`unattributed` is what feeders measured beyond their monitored loads. `organisation` "
        "(on every site series) is the site's owner, when configured; a shared site is split "
        "by sobriety_site_share_energy_joules_total.",
        ("site", "organisation", "class", "source"),
        "joules",
        "energy",
    ),
    _m(
        "sobriety_site_carbon_grams_total",
        "counter",
        "Use-phase carbon per site and class: energy × the site's grid intensity (gCO2e/kWh).",
        ("site", "organisation", "class"),
        "grams",
        "energy",
    ),
    _m(
        "sobriety_site_cost_euros_total",
        "counter",
        "Electricity cost per site and class: energy × the site's price per kWh.",
        ("site", "organisation", "class"),
        "euros",
        "energy",
    ),
    _m(
        "sobriety_site_waste_energy_joules_total",
        "counter",
        "Energy used outside opening hours (`period` after_hours) or on closed days "
        "(holiday) by classes that could be off (PCs, printers, projectors, displays, APs); "
        "`source` measured, estimated (from an observed state) or assumed (no state known).",
        ("site", "organisation", "class", "period", "source"),
        "joules",
        "energy",
    ),
    _m(
        "sobriety_site_waste_carbon_grams_total",
        "counter",
        "Carbon of the after-hours and holiday energy above.",
        ("site", "organisation", "class", "period", "source"),
        "grams",
        "energy",
    ),
    _m(
        "sobriety_site_waste_cost_euros_total",
        "counter",
        "Cost of the after-hours and holiday energy above.",
        ("site", "organisation", "class", "period", "source"),
        "euros",
        "energy",
    ),
    _m(
        "sobriety_site_power_watts",
        "gauge",
        "A site's power now: the current reading of each of its devices (fresh ones only) "
        "and the unattributed load of its feeders, by source.",
        ("site", "organisation", "source"),
        "watts",
        "energy",
    ),
    _m(
        "sobriety_site_share_ratio",
        "gauge",
        "Who pays for a site, by key: the declared share of a shared site for each "
        "organisation (they sum to 1), or 1 for a site's own organisation.",
        ("site", "organisation"),
        "ratio",
        "energy",
    ),
    _m(
        "sobriety_site_share_energy_joules_total",
        "counter",
        "A site's energy split by its keys: each organisation's share, by source (the shares "
        "of a site sum to its sobriety_site_energy_joules_total). Sum by organisation for "
        "what each is re-invoiced.",
        ("site", "organisation", "source"),
        "joules",
        "energy",
    ),
    _m(
        "sobriety_site_share_carbon_grams_total",
        "counter",
        "A site's use-phase carbon split by its keys, per organisation.",
        ("site", "organisation"),
        "grams",
        "energy",
    ),
    _m(
        "sobriety_site_share_cost_euros_total",
        "counter",
        "A site's electricity cost split by its keys, per organisation.",
        ("site", "organisation"),
        "euros",
        "energy",
    ),
    _m(
        "sobriety_feeder_unattributed_power_watts",
        "gauge",
        "What a feeder (PDU inlet, UPS output) measures beyond the monitored devices declared "
        "on it: loads nobody monitors, booked once, at the feeder.",
        ("target", "source"),
        "watts",
        "energy",
    ),
    _m(
        "sobriety_feeder_unattributed_power_band_watts",
        "gauge",
        "Band of the unattributed load (`bound` low or high), from the bands of the loads "
        "subtracted.",
        ("target", "bound"),
        "watts",
        "energy",
    ),
    _m(
        "sobriety_feeder_unattributed_energy_joules_total",
        "counter",
        "Energy of a feeder's unattributed load, integrated like a device's.",
        ("target", "source"),
        "joules",
        "energy",
    ),
    _m(
        "sobriety_feeder_overcommitted",
        "gauge",
        "1 when the loads declared on a feeder add up to more than it measures (a wrong "
        "declaration, or estimates above the truth); the unattributed load is then 0.",
        T,
        group="energy",
    ),
    _m(
        "sobriety_managed_device_power_watts",
        "gauge",
        "Power of a device a controller manages (an access point of a Wi-Fi controller), "
        "booked as its own device.",
        ("target", "device", "source", "origin", "basis"),
        "watts",
        "energy",
    ),
    _m(
        "sobriety_managed_device_energy_joules_total",
        "counter",
        "Energy of a managed device, integrated like a device's.",
        ("target", "device", "source", "basis"),
        "joules",
        "energy",
    ),
    _m(
        "sobriety_device_virtualization_info",
        "info",
        "Present when the device is a virtual machine or a container (`kind` vm or "
        "container, `technology` as detected): its power is a share of a host's.",
        ("target", "kind", "technology"),
        group="energy",
    ),
    _m(
        "sobriety_device_power_state",
        "gauge",
        "The power state a device reports (projectors, displays); 1 for the current `state` "
        "(on, standby, off, warming, cooling).",
        ("target", "state"),
        group="energy",
    ),
    # --- lifetime ---------------------------------------------------------------------------
    _m(
        "sobriety_device_boots_total",
        "counter",
        "Reboots seen: uptime going back (not a 497-day TimeTicks wrap) or snmpEngineBoots "
        "going up; a missed poll is never one. Persisted.",
        T,
        group="lifetime",
    ),
    _m(
        "sobriety_device_power_on_seconds_total",
        "counter",
        "Time the device was up, accumulated from its observed uptime. Persisted.",
        T,
        "seconds",
        "lifetime",
    ),
    _m(
        "sobriety_device_uptime_wraps_total",
        "counter",
        "sysUpTime/hrSystemUptime wraps at 2^32 centiseconds seen (not counted as reboots).",
        T,
        group="lifetime",
    ),
    _m(
        "sobriety_device_age_seconds",
        "gauge",
        "Age of the device; `source` says from what: inventory, entity_mfg_date, "
        "manufacturer or first_seen.",
        ("target", "source"),
        "seconds",
        "lifetime",
    ),
    _m(
        "sobriety_device_life_start_timestamp_seconds",
        "gauge",
        "When the device's life started, by the same source as its age.",
        ("target", "source"),
        "seconds",
        "lifetime",
    ),
    _m(
        "sobriety_device_warranty_end_timestamp_seconds",
        "gauge",
        "When the warranty ends (inventory: a date, or months from purchase).",
        T,
        "seconds",
        "lifetime",
    ),
    _m(
        "sobriety_device_expected_end_of_life_timestamp_seconds",
        "gauge",
        "Life start plus the class's sourced service life (collectors/classes.yaml "
        "end_of_life.service_life_years); absent when either is unknown.",
        T,
        "seconds",
        "lifetime",
    ),
    _m(
        "sobriety_device_embodied_carbon_grams",
        "gauge",
        "Embodied (manufacturing) carbon of the device's class, gCO2e (sources in classes.yaml).",
        T,
        "grams",
        "lifetime",
    ),
    _m(
        "sobriety_device_embodied_carbon_amortised_grams",
        "gauge",
        "The share of the embodied carbon its life so far has amortised over the class's "
        "accounting period (embodied × age / lifetime_years, at most all of it); absent when "
        "its age is unknown (first seen is not an age).",
        T,
        "grams",
        "lifetime",
    ),
    _m(
        "sobriety_device_eol_recommendation",
        "gauge",
        "End-of-life recommendation (collectors/eol-policy.yaml, waste hierarchy): 1 for the "
        "current `action` (keep, reuse, service, repair, recycle), 0 for the others.",
        ("target", "action"),
        group="lifetime",
    ),
    _m(
        "sobriety_device_eol_reason_info",
        "info",
        "The reasons behind a device's end-of-life recommendation, one series each: "
        "`reason` is the id of the rule that fired.",
        ("target", "reason"),
        group="lifetime",
    ),
    _m(
        "sobriety_entity_info",
        "info",
        "ENTITY-MIB physical entity (chassis, module, power supply, stack...): model, serial.",
        (
            "target",
            "entity",
            "class",
            "name",
            "vendor",
            "model",
            "serial",
            "hardware",
            "firmware",
            "software",
        ),
        group="inventory",
    ),
    # --- hosts (HOST-RESOURCES over SNMP, and psutil for the local host) -----------------
    _m(
        "sobriety_host_cpu_load_ratio",
        "gauge",
        "Average processor load, 0 to 1 (hrProcessorLoad mean, or psutil).",
        T,
        "ratio",
        "host",
    ),
    _m(
        "sobriety_host_processors",
        "gauge",
        "Number of processors (hrProcessorTable rows, or logical CPUs).",
        T,
        group="host",
    ),
    _m("sobriety_host_memory_bytes", "gauge", "Physical memory size.", T, "bytes", "host"),
    _m(
        "sobriety_host_memory_used_bytes",
        "gauge",
        "Physical memory in use.",
        T,
        "bytes",
        "host",
    ),
    _m(
        "sobriety_host_storage_bytes",
        "gauge",
        "Size of fixed disks, summed.",
        T,
        "bytes",
        "host",
    ),
    _m(
        "sobriety_host_storage_used_bytes",
        "gauge",
        "Space used on fixed disks, summed.",
        T,
        "bytes",
        "host",
    ),
    _m("sobriety_host_processes", "gauge", "Number of processes (a count only).", T, "", "host"),
    _m(
        "sobriety_host_software_installed",
        "gauge",
        "Number of installed software packages (hrSWInstalledTable rows; names not kept).",
        T,
        group="host",
    ),
    _m(
        "sobriety_host_rapl_energy_joules_total",
        "counter",
        "Energy counted by the CPU's RAPL power-capping zones (local host, where readable).",
        ("target", "zone"),
        "joules",
        "energy",
    ),
    # --- UPS ------------------------------------------------------------------------------
    _m(
        "sobriety_ups_output_power_watts",
        "gauge",
        "Real power a UPS delivers on each output line (measured, UPS-MIB upsOutputPower).",
        ("target", "line"),
        "watts",
        "power",
    ),
    _m(
        "sobriety_ups_output_load_ratio",
        "gauge",
        "UPS output load as a fraction of its rating, per line.",
        ("target", "line"),
        "ratio",
        "power",
    ),
    _m(
        "sobriety_ups_output_voltage_volts",
        "gauge",
        "RMS voltage of a UPS output line, as the UPS measures it.",
        ("target", "line"),
        "volts",
        "power",
    ),
    _m(
        "sobriety_ups_output_current_amperes",
        "gauge",
        "RMS current of a UPS output line, as the UPS measures it.",
        ("target", "line"),
        "amperes",
        "power",
    ),
    _m(
        "sobriety_ups_output_apparent_power_voltamperes",
        "gauge",
        "Apparent power of a UPS output line, volts × amperes as the UPS reports them: VA, "
        "not watts (a UPS card that gives no watts still gives this).",
        ("target", "line"),
        "voltamperes",
        "power",
    ),
    _m(
        "sobriety_ups_input_power_watts",
        "gauge",
        "Real power a UPS draws on each input line (UPS-MIB upsInputTruePower).",
        ("target", "line"),
        "watts",
        "power",
    ),
    _m(
        "sobriety_ups_rated_power_watts",
        "gauge",
        "Nominal real-power rating of the UPS (upsConfigOutputPower).",
        T,
        "watts",
        "power",
    ),
    _m(
        "sobriety_ups_output_source",
        "gauge",
        "Where the UPS output comes from; 1 for the current `state`.",
        ("target", "state"),
        group="power",
    ),
    _m(
        "sobriety_ups_battery_status",
        "gauge",
        "UPS battery status; 1 for the current `state`.",
        ("target", "state"),
        group="power",
    ),
    _m(
        "sobriety_ups_on_battery_seconds",
        "gauge",
        "Time since the UPS switched to battery, 0 when on mains.",
        T,
        "seconds",
        "power",
    ),
    _m(
        "sobriety_ups_battery_runtime_seconds",
        "gauge",
        "Estimated runtime left on battery.",
        T,
        "seconds",
        "power",
    ),
    _m(
        "sobriety_ups_battery_charge_ratio",
        "gauge",
        "Battery charge, 0 to 1.",
        T,
        "ratio",
        "power",
    ),
    # --- PoE ------------------------------------------------------------------------------
    _m(
        "sobriety_poe_budget_watts",
        "gauge",
        "Nominal PoE power budget of a PSE group (pethMainPsePower).",
        ("target", "group"),
        "watts",
        "power",
    ),
    _m(
        "sobriety_poe_consumption_watts",
        "gauge",
        "PoE power delivered by a PSE group, measured (pethMainPseConsumptionPower).",
        ("target", "group"),
        "watts",
        "power",
    ),
    _m(
        "sobriety_poe_usage_threshold_ratio",
        "gauge",
        "Usage threshold of a PSE group, as a fraction of its budget.",
        ("target", "group"),
        "ratio",
        "power",
    ),
    _m(
        "sobriety_poe_status",
        "gauge",
        "Operational status of a PSE group; 1 for the current `state`.",
        ("target", "group", "state"),
        group="power",
    ),
    # --- polling cost (frugality made visible) ----------------------------------------------
    _m(
        "sobriety_poe_port_power_watts",
        "gauge",
        "Power a PoE port delivers, measured (CISCO-POWER-ETHERNET-EXT, mW in the MIB).",
        ("target", "group", "port"),
        "watts",
        "power",
    ),
    _m(
        "sobriety_poe_port_allocated_watts",
        "gauge",
        "Power a PoE port has allocated to its device (cpeExtPsePortPwrAllocated); where the "
        "port's consumption equals it and its maximum drawn is 0, the consumption is this "
        "allocation, not a measurement.",
        ("target", "group", "port"),
        "watts",
        "power",
    ),
    _m(
        "sobriety_poe_port_max_drawn_watts",
        "gauge",
        "Highest power the PoE port has seen its device draw (cpeExtPsePortMaxPwrDrawn; 0 on "
        "switches that do not measure).",
        ("target", "group", "port"),
        "watts",
        "power",
    ),
    _m(
        "sobriety_poe_port_detection_status",
        "gauge",
        "PoE port detection status (pethPsePortDetectionStatus); 1 for the current `state`.",
        ("target", "group", "port", "state"),
        group="power",
    ),
    _m(
        "sobriety_poe_port_class",
        "gauge",
        "PoE class the powered device announced (0-4; pethPsePortPowerClassifications).",
        ("target", "group", "port"),
        group="power",
    ),
    _m(
        "sobriety_poe_port_priority",
        "gauge",
        "PoE port power priority (pethPsePortPowerPriority); 1 for the current `state`.",
        ("target", "group", "port", "state"),
        group="power",
    ),
    _m(
        "sobriety_poe_port_admin_enabled",
        "gauge",
        "1 if PoE is administratively enabled on the port (pethPsePortAdminEnable).",
        ("target", "group", "port"),
        group="power",
    ),
    _m(
        "sobriety_entity_manufacture_timestamp_seconds",
        "gauge",
        "When a physical entity was made (ENTITY-MIB entPhysicalMfgDate; absent when the "
        "device says unknown).",
        ("target", "entity"),
        "seconds",
        "inventory",
    ),
    # --- ENTITY-SENSOR, EMAN ----------------------------------------------------------------
    _m(
        "sobriety_supply_sensor_volts",
        "gauge",
        "Input or output voltage of a power supply that reports no watts (ENTITY-SENSOR; "
        "`supply` is the entity the sensor sits in, `name` says input or output).",
        ("target", "entity", "supply", "name"),
        "volts",
        "power",
    ),
    _m(
        "sobriety_supply_sensor_amperes",
        "gauge",
        "Input or output current of a power supply that reports no watts (ENTITY-SENSOR).",
        ("target", "entity", "supply", "name"),
        "amperes",
        "power",
    ),
    _m(
        "sobriety_host_virtual_devices",
        "gauge",
        "Devices of the host that name a hypervisor (hrDeviceDescr: QEMU, VMware, Hyper-V, "
        "VirtIO, Xen...): above 0, the host is a virtual machine.",
        T,
        group="host",
    ),
    _m(
        "sobriety_supply_unit_power_watts",
        "gauge",
        "Power reported by a power-supply sensor of the device (ENTITY-SENSOR watts, scale and "
        "precision applied; optical DOM power is never counted here).",
        ("target", "entity", "name"),
        "watts",
        "power",
    ),
    _m(
        "sobriety_sensor_temperature_celsius",
        "gauge",
        "Temperature sensors of the device (ENTITY-SENSOR celsius, status ok only).",
        ("target", "entity", "name"),
        "celsius",
        "power",
    ),
    _m(
        "sobriety_eo_power_watts",
        "gauge",
        "ENERGY-OBJECT-MIB eoPower × 10^multiplier per energy object; `caliber` keeps actual "
        "readings apart from estimated and static figures.",
        ("target", "entity", "caliber"),
        "watts",
        "power",
    ),
    _m(
        "sobriety_eo_nameplate_watts",
        "gauge",
        "ENERGY-OBJECT-MIB eoPowerNameplate: the rated maximum, not a reading.",
        ("target", "entity"),
        "watts",
        "power",
    ),
    _m(
        "sobriety_eo_power_state",
        "gauge",
        "ENERGY-OBJECT-MIB operational power state (IANAPowerStateSet); 1 for `state`.",
        ("target", "entity", "state"),
        group="power",
    ),
    # --- UPS (vendor MIBs) -------------------------------------------------------------------
    _m(
        "sobriety_ups_battery_replace_needed",
        "gauge",
        "1 when the UPS says its battery needs replacing (APC upsAdvBatteryReplaceIndicator).",
        T,
        group="power",
    ),
    _m(
        "sobriety_ups_manufacture_timestamp_seconds",
        "gauge",
        "When the UPS was made, as it reports (APC upsAdvIdentDateOfManufacture).",
        T,
        "seconds",
        "lifetime",
    ),
    _m(
        "sobriety_ups_battery_replaced_timestamp_seconds",
        "gauge",
        "When the UPS battery was last replaced, as the UPS was told "
        "(APC upsBasicBatteryLastReplaceDate).",
        T,
        "seconds",
        "lifetime",
    ),
    # --- PDUs --------------------------------------------------------------------------------
    _m(
        "sobriety_pdu_input_power_watts",
        "gauge",
        "Active power a PDU draws on each inlet (or in total), measured.",
        ("target", "inlet"),
        "watts",
        "power",
    ),
    _m(
        "sobriety_pdu_input_energy_joules_total",
        "counter",
        "Active energy counted by the PDU on each inlet (the device's own counter; some "
        "can be reset by users).",
        ("target", "inlet"),
        "joules",
        "power",
    ),
    _m(
        "sobriety_pdu_phase_power_watts",
        "gauge",
        "Active power per phase of a PDU, measured.",
        ("target", "phase"),
        "watts",
        "power",
    ),
    _m(
        "sobriety_pdu_outlet_power_watts",
        "gauge",
        "Active power a metered PDU outlet delivers, measured.",
        ("target", "outlet"),
        "watts",
        "power",
    ),
    _m(
        "sobriety_pdu_outlet_energy_joules_total",
        "counter",
        "Active energy counted by the PDU per outlet (the device's own counter).",
        ("target", "outlet"),
        "joules",
        "power",
    ),
    # --- printers, projectors ------------------------------------------------------------
    _m(
        "sobriety_printer_marker_lifetime_count_total",
        "counter",
        "Lifetime count of a printer marker (prtMarkerLifeCount) in its `unit` "
        "(impressions, sheets...): the printer's wear.",
        ("target", "marker", "unit"),
        group="lifetime",
    ),
    _m(
        "sobriety_printer_supply_level_ratio",
        "gauge",
        "Level of a printer supply (toner, drum...) as a fraction of its capacity; only "
        "where the printer gives both numbers.",
        ("target", "supply", "name"),
        "ratio",
        "lifetime",
    ),
    _m(
        "sobriety_printer_status",
        "gauge",
        "hrPrinterStatus (other, unknown, idle, printing, warmup); 1 for the current `state`.",
        ("target", "device", "state"),
        group="power",
    ),
    _m(
        "sobriety_printer_device_status",
        "gauge",
        "hrDeviceStatus of a printer (unknown, running, warning, testing, down); 1 for the "
        "current `state`: whether the printer is working, for the energy model.",
        ("target", "device", "state"),
        group="power",
    ),
    _m(
        "sobriety_projector_power_state",
        "gauge",
        "Power state of a projector as it reports it (on, off, cooling, warmup, standby...); "
        "1 for the current `state`: what the energy model needs to know it is on.",
        ("target", "state"),
        group="power",
    ),
    _m(
        "sobriety_projector_lamp_seconds",
        "gauge",
        "Hours of use of the projector's lamp or light source, as the projector counts them.",
        T,
        "seconds",
        "lifetime",
    ),
    # --- radios ------------------------------------------------------------------------------
    _m(
        "sobriety_radio_tx_power_dbm",
        "gauge",
        "Conducted transmit power of a radio or VAP in dBm: as the device gives it, or a "
        "power level turned into dBm through the device's own table of levels (never a "
        "guessed one).",
        ("target", "radio"),
        "dbm",
        "radio",
    ),
    _m(
        "sobriety_radio_frequency_hertz",
        "gauge",
        "Centre frequency of a radio.",
        ("target", "radio"),
        "hertz",
        "radio",
    ),
    _m(
        "sobriety_radio_clients",
        "gauge",
        "Clients associated with a radio or VAP: a count only, never who.",
        ("target", "radio"),
        group="radio",
    ),
    _m(
        "sobriety_radio_antenna_gain_dbi",
        "gauge",
        "Gain of a radio's antenna in dBi as the device reports it (conducted power plus "
        "this gain bounds the EIRP).",
        ("target", "radio"),
        "dbi",
        "radio",
    ),
    # --- radios: what profiles read for the exposure indicator (collectors/snmp/radio-*) ---
    _m(
        "sobriety_radio_channel",
        "gauge",
        "Wi-Fi channel number a radio uses; `band` is how the device names the band (ng, na, "
        "dot11a...), empty when it does not (the number alone may fit several bands).",
        ("target", "radio", "band"),
        group="radio",
    ),
    _m(
        "sobriety_radio_oper_up",
        "gauge",
        "1 while the device says the radio is operational (up), 0 when it says it is down; "
        "absent when the device does not say.",
        ("target", "radio"),
        group="radio",
    ),
    _m(
        "sobriety_radio_admin_up",
        "gauge",
        "1 while the radio is administratively enabled, 0 when disabled; absent when the "
        "device does not say.",
        ("target", "radio"),
        group="radio",
    ),
    _m(
        "sobriety_radio_transmitter_info",
        "info",
        "The transmitter a radio series belongs to, where a device reports per virtual AP "
        "(UniFi: every VAP of a band shares that band's radio); the radio figures below are "
        "per transmitter.",
        ("target", "radio", "transmitter"),
        group="radio",
    ),
    # --- radios: the exposure indicator (sobriety/radio), an upper bound, not a measure ---
    _m(
        "sobriety_radio_eirp_dbm",
        "gauge",
        "Equivalent isotropic radiated power of a radio: conducted power + antenna gain - "
        "cable loss, from what the transmitter and the inventory declare (an estimate, "
        "`source` estimated); `gain_origin` mib, model (collectors/radio-antennas.yaml) or "
        "inventory; `band` its band (collectors/radio-bands.yaml), empty when unknown.",
        ("target", "radio", "band", "gain_origin", "source"),
        "dbm",
        "radio",
    ),
    _m(
        "sobriety_radio_eirp_watts",
        "gauge",
        "The same EIRP in watts.",
        ("target", "radio", "band", "gain_origin", "source"),
        "watts",
        "radio",
    ),
    _m(
        "sobriety_radio_unknown_info",
        "info",
        "What could not be worked out for a radio and why (`fact` eirp, band, limit; "
        "`reason` tx_power_unknown, antenna_gain_unknown, frequency_unknown, band_ambiguous, "
        "not_in_table, country_unknown, country_not_in_table, no_limit_in_table): an "
        "unknown is said, never replaced by 0.",
        ("target", "radio", "fact", "reason"),
        group="radio",
    ),
    _m(
        "sobriety_radio_eirp_limit_dbm",
        "gauge",
        "Legal maximum EIRP of the radio's band in its site's country (collectors/"
        "radio-bands.yaml, sourced: ETSI/ECC/ARCEP decisions).",
        ("target", "radio", "band", "country"),
        "dbm",
        "radio",
    ),
    _m(
        "sobriety_radio_eirp_limit_ratio",
        "gauge",
        "EIRP over the legal maximum, in watts (above 1: the radio declares more than its band "
        "allows, as a North-American SKU installed in Europe may).",
        ("target", "radio"),
        "ratio",
        "radio",
    ),
    _m(
        "sobriety_radio_field_bound_volts_per_metre",
        "gauge",
        "Upper bound of the electric field at a distance the site declares: far field, "
        "E = √(30·EIRP)/d, 100 % duty cycle, no reflections (an estimate from declared "
        "figures, not a measurement); `validity` far_field (beyond 2D²/λ) or unchecked (the "
        "antenna size is not declared). Absent in the near field: not valid there.",
        ("target", "radio", "distance", "validity", "source"),
        "volts_per_metre",
        "radio",
    ),
    _m(
        "sobriety_radio_threshold_distance_metres",
        "gauge",
        "Distance beyond which the far-field bound is below a level: `level` anfr (the site's "
        "ANFR atypical-point level, 9 V/m by default) or decret (the décret 2002-775 "
        "reference level of the band); absent when that distance falls in the near field.",
        ("target", "radio", "level", "validity", "source"),
        "metres",
        "radio",
    ),
    _m(
        "sobriety_radio_reference_level_volts_per_metre",
        "gauge",
        "The level each threshold distance is computed for (`level` anfr or decret).",
        ("target", "radio", "level"),
        "volts_per_metre",
        "radio",
    ),
    _m(
        "sobriety_radio_near_field_metres",
        "gauge",
        "Near-field boundary 2D²/λ of a radio's antenna (D its declared largest dimension): "
        "closer than this, no field figure is given.",
        ("target", "radio"),
        "metres",
        "radio",
    ),
    _m(
        "sobriety_radio_on",
        "gauge",
        "1 while the radio transmits, 0 while it is off; absent when unknown (never assumed "
        "on). `basis` mib (the device's radio state) or poe (a PoE-fed AP: its port delivers "
        "power, or not).",
        ("target", "radio", "basis"),
        group="radio",
    ),
    _m(
        "sobriety_radio_on_seconds_total",
        "counter",
        "Time the radio was on, split by `period`: teaching (the site's calendar says open) "
        "or outside; between two polls that disagree, half the interval (persisted).",
        ("target", "radio", "period"),
        "seconds",
        "radio",
    ),
    _m(
        "sobriety_site_wifi_radios",
        "gauge",
        "Wi-Fi radios of a site by `state` now (on, off, unknown), with the site's "
        '`site_type`: what the "Wi-Fi on outside teaching" alert reads.',
        ("site", "organisation", "site_type", "state"),
        group="radio",
    ),
    _m(
        "sobriety_site_wifi_on_seconds_total",
        "counter",
        "Radio-seconds of the site's Wi-Fi radios on, by `period` (teaching, outside): the sum "
        "over its radios.",
        ("site", "organisation", "site_type", "period"),
        "seconds",
        "radio",
    ),
    # --- devices a controller manages (APs of a Wi-Fi controller) ------------------------
    _m(
        "sobriety_managed_device_info",
        "info",
        "A device a controller manages (`kind` ap...), as the controller lists it: `device` "
        "is its MAC address (aa:bb:cc:dd:ee:ff), stable across polls; name, vendor, model, "
        "serial as the controller says them, empty when it does not.",
        ("target", "device", "kind", "name", "vendor", "model", "serial"),
        group="inventory",
    ),
    _m(
        "sobriety_managed_device_up",
        "gauge",
        "1 while the controller says the managed device is up (associated, joined), 0 when "
        "it says it is down; absent when the controller does not say.",
        ("target", "device"),
        group="inventory",
    ),
    _m(
        "sobriety_managed_device_uptime_seconds",
        "gauge",
        "Uptime of a managed device as its controller reports it.",
        ("target", "device"),
        "seconds",
        "inventory",
    ),
    # --- UCD ---------------------------------------------------------------------------------
    _m(
        "sobriety_host_load_average",
        "gauge",
        "Load average over `window` minutes (UCD-SNMP laLoad).",
        ("target", "window"),
        group="host",
    ),
    _m(
        "sobriety_poe_used_ratio",
        "gauge",
        "PoE power a PSE group delivers as a fraction of its budget (consumption / budget).",
        ("target", "group"),
        "ratio",
        "power",
    ),
    _m(
        "sobriety_device_warranty_left_seconds",
        "gauge",
        "Time until the warranty ends (negative once it has ended).",
        T,
        "seconds",
        "lifetime",
    ),
    _m(
        "sobriety_site_open",
        "gauge",
        "1 while the site is open (opening hours, not a closure day), else 0.",
        ("site", "organisation"),
        group="energy",
    ),
    _m(
        "sobriety_poll_overrun_ratio",
        "gauge",
        "Wall time of the target's last poll as a fraction of its interval (above 1: overrun).",
        T,
        "ratio",
        "self",
    ),
    _m(
        "sobriety_alert_active",
        "gauge",
        "Alerts the daemon holds pending or firing (`alertstate`), one series each.",
        ("alertname", "alertstate", "severity", "target", "site"),
        group="self",
    ),
    _m(
        "sobriety_notifications_total",
        "counter",
        "Alert notifications delivered, per notifier.",
        ("notifier",),
        group="self",
    ),
    _m(
        "sobriety_notifications_failed_total",
        "counter",
        "Notification attempts that failed (retried with backoff), per notifier.",
        ("notifier",),
        group="self",
    ),
    _m(
        "sobriety_notifications_dropped_total",
        "counter",
        "Notifications given up: refused by the receiver (4xx) or pushed out of a full queue.",
        ("notifier",),
        group="self",
    ),
    _m(
        "sobriety_notifications_queued",
        "gauge",
        "Notifications waiting for their notifier.",
        ("notifier",),
        group="self",
    ),
    _m(
        "sobriety_poll_duration_seconds",
        "gauge",
        "Wall time of the last poll of the target.",
        T,
        "seconds",
        "self",
    ),
    _m(
        "sobriety_last_poll_timestamp_seconds",
        "gauge",
        "When the last poll of the target ended.",
        T,
        "seconds",
        "self",
    ),
    _m(
        "sobriety_polls_total",
        "counter",
        "Polls of the target, successful or not." + SUMMED,
        T,
        "",
        "self",
    ),
    _m(
        "sobriety_poll_errors_total",
        "counter",
        "Polls that failed, by bounded reason." + SUMMED,
        ("target", "reason"),
        group="self",
    ),
    _m(
        "sobriety_collect_issues_total",
        "counter",
        "Things a poll noticed and survived (short walk, bad value...), by code." + SUMMED,
        ("target", "code"),
        group="self",
    ),
    _m(
        "sobriety_snmp_requests_total",
        "counter",
        "SNMP request PDUs sent, by type (get, getnext, getbulk)." + SUMMED,
        ("target", "type"),
        group="self",
    ),
    _m(
        "sobriety_snmp_timeouts_total",
        "counter",
        "SNMP requests that got no answer in time." + SUMMED,
        T,
        group="self",
    ),
    _m(
        "sobriety_snmp_retries_total",
        "counter",
        "SNMP requests sent again after a try got no answer in time." + SUMMED,
        T,
        group="self",
    ),
    _m(
        "sobriety_snmp_sent_bytes_total",
        "counter",
        "Bytes of SNMP messages sent to the target (UDP payload, retries included)." + SUMMED,
        T,
        "bytes",
        "self",
    ),
    _m(
        "sobriety_snmp_received_bytes_total",
        "counter",
        "Bytes of SNMP answers received from the target (UDP payload)." + SUMMED,
        T,
        "bytes",
        "self",
    ),
    _m(
        "sobriety_snmp_varbinds_total",
        "counter",
        "Variable bindings received." + SUMMED,
        T,
        group="self",
    ),
    _m(
        "sobriety_snmp_bulk_shrinks_total",
        "counter",
        "GETBULKs asked again with fewer repetitions, by cause (too_big, timeout, truncated); "
        "the target keeps the smaller size afterwards." + SUMMED,
        ("target", "cause"),
        group="self",
    ),
    _m(
        "sobriety_snmp_walk_anomalies_total",
        "counter",
        "Walks ended abnormally (non-increasing OID, exception in walk...), by kind." + SUMMED,
        ("target", "kind"),
        group="self",
    ),
    _m(
        "sobriety_snmp_dropped_oids",
        "gauge",
        "OIDs the target does not answer for (a request naming them hangs or fails), left "
        "out of its polls and asked again once a day; the `oid_dropped` issues name them.",
        T,
        group="self",
    ),
    _m(
        "sobriety_snmp_dropped_responses_total",
        "counter",
        "Datagrams the SNMP engine dropped: malformed_*, unknown_request_id (late or forged), "
        "wrong_source, duplicate, socket_error.",
        ("reason",),
        group="self",
    ),
    _m(
        "sobriety_process_cpu_seconds_total",
        "counter",
        "CPU time (user + system) the sobriety process has used.",
        (),
        "seconds",
        "self",
    ),
    _m(
        "sobriety_self_energy_joules_total",
        "counter",
        "Energy the daemon's own CPU time stands for, estimated: CPU seconds × "
        "settings.self_watts_per_cpu (default 5 W per busy CPU).",
        (),
        "joules",
        "self",
    ),
    _m(
        "sobriety_process_resident_memory_bytes",
        "gauge",
        "Resident memory of the sobriety process.",
        (),
        "bytes",
        "self",
    ),
    _m(
        "sobriety_targets",
        "gauge",
        "Targets this daemon polls, by kind.",
        ("kind",),
        group="self",
    ),
    _m(
        "sobriety_config_last_reload_successful",
        "gauge",
        "1 if the last configuration load or reload succeeded.",
        (),
        group="self",
    ),
    _m(
        "sobriety_config_last_reload_success_timestamp_seconds",
        "gauge",
        "When the configuration was last loaded successfully.",
        (),
        "seconds",
        "self",
    ),
    _m(
        "sobriety_http_requests_total",
        "counter",
        "HTTP requests answered, by handler (route, or other) and status code: 401, 403 and "
        "429 are requests the web config refused.",
        ("handler", "code"),
        group="self",
    ),
    _m(
        "sobriety_http_connections_cut_total",
        "counter",
        "HTTP connections the server closed: header_timeout, idle_timeout, "
        "too_many_connections (answered 503), malformed_request (answered 400).",
        ("reason",),
        group="self",
    ),
    _m(
        "sobriety_http_connections",
        "gauge",
        "HTTP connections open now.",
        (),
        group="self",
    ),
    _m(
        "sobriety_build_info",
        "info",
        "The running version of sobriety.",
        ("version",),
        group="self",
    ),
)

BY_NAME: dict[str, MetricSpec] = {m.name: m for m in METRICS}


def spec(name: str) -> MetricSpec:
    """The spec of a declared metric; KeyError names the unknown metric."""
    try:
        return BY_NAME[name]
    except KeyError:
        raise KeyError(f"metric {name!r} is not in the catalogue") from None
