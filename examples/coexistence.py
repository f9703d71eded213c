"""Teleportation and QKD over a fibre that also carries classical traffic.

The link of ``examples/coexistence.toml`` (30 km, double-click heralding at a
station in the middle, detectors 0.8 efficient with 100 Hz dark counts and a
1 ns window behind a 0.1 nm filter) carries classical light in the same
fibre, launched at each node towards the station. Its spontaneous Raman
scattering adds noise photons in the quantum band (``qstack.physics.raman``),
which the station's detectors count like dark counts; more launch power,
more false heralds: the delivered pairs get worse, and with them the
teleported states and the QKD key.

Two band plans, each swept over the classical launch power:

- **O/C**: quantum photons in the O-band (1310 nm, 0.33 dB/km), classical
  light in the C-band (1550 nm, 0.2 dB/km): the quantum band is far from
  the classical line, on its weak (anti-Stokes) side;
- **C/C**: both in the C-band (quantum 1530 nm, classical 1550 nm, 0.2
  dB/km each): the quantum band is close to the classical line.

The Raman coefficients used (``--rho-oc``, ``--rho-cc``, in 1/(km nm)) are
ILLUSTRATIVE INPUTS, not measured values: qstack ships no Raman coefficient
(no published value could be read for this version; see
``specs/scenario.md``). Their ratio only says that Raman scattering far on
the anti-Stokes side of the classical line is much weaker than close to it.
Put in the coefficients measured for your fibre to get your numbers.

Every point is a full run (a ``teleport`` request of 100 states, then a
``qkd`` request of 4000 pairs with sifting, Cascade and privacy
amplification) run as a sweep (``qstack.experiments.sweeping``) over
``links[0].classical_launch_power_dbm``. The table prints, per point, the
Raman photons per detection window at the station (the formula, from the
link's keys) and the noise probability per detector and window the
heralding model sees, then the run's teleportation fidelity, QBER and
secret key rate. With the ``plot`` extra it also saves a two-panel figure.

Run it with ``python examples/coexistence.py`` (``--quick``: three powers).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from qstack.experiments import sweep
from qstack.experiments.plot import PlotSpec, save_figure
from qstack.scenario import LinkSpec, read_scenario_document

HERE = Path(__file__).resolve().parent
SCENARIO = HERE / "coexistence.toml"
POWERS_DBM = (-20.0, -15.0, -10.0, -5.0, 0.0, 5.0, 10.0, 15.0, 20.0)
QUICK_POWERS_DBM = (-20.0, 0.0, 20.0)
POWER_KEY = "links[0].classical_launch_power_dbm"

#: Illustrative Raman coefficients (1/(km nm)): inputs of this example, not measurements.
DEFAULT_RHO_OC = 2e-11
DEFAULT_RHO_CC = 2e-9


#: The two band plans: (label, link keys).
def band_plans(rho_oc: float, rho_cc: float) -> dict[str, dict[str, Any]]:
    return {
        "O/C": {
            "quantum_wavelength_nm": 1310.0,
            "attenuation_db_per_km": 0.33,
            "classical_wavelength_nm": 1550.0,
            "classical_attenuation_db_per_km": 0.2,
            "raman_coefficient_per_km_nm": rho_oc,
        },
        "C/C": {
            "quantum_wavelength_nm": 1530.0,
            "attenuation_db_per_km": 0.2,
            "classical_wavelength_nm": 1550.0,
            "classical_attenuation_db_per_km": 0.2,
            "raman_coefficient_per_km_nm": rho_cc,
        },
    }


def scenario_for(plan: dict[str, Any], seed: int) -> dict[str, Any]:
    """The example's scenario with one band plan's link keys."""
    data = read_scenario_document(SCENARIO)
    data["seed"] = seed
    data["links"][0].update(plan)
    return data


def run_plans(plans: dict[str, dict[str, Any]], powers: tuple[float, ...], seed: int,
              workers: int | None) -> Any:  # fmt: skip
    import pandas as pd

    frames = []
    for label, plan in plans.items():
        data = scenario_for(plan, seed)
        frame = sweep(data, {POWER_KEY: list(powers)}, workers=workers)
        frame["plan"] = label
        link = data["links"][0]
        noise = {
            power: LinkSpec.model_validate({**link, "classical_launch_power_dbm": power})
            for power in powers
        }
        frame["raman_photons"] = [noise[p].raman_photons_per_window for p in frame[POWER_KEY]]
        frame["noise_per_window"] = [noise[p].noise_per_window for p in frame[POWER_KEY]]
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def table(rows: Any) -> str:
    teleport = rows[rows["app"] == "teleport"].set_index(["plan", POWER_KEY])
    qkd = rows[rows["app"] == "qkd"].set_index(["plan", POWER_KEY])
    header = (
        f"{'plan':<5} {'P dBm':>6} {'Raman/win':>10} {'noise/win':>10} {'F teleport':>10} "
        f"{'QBER':>7} {'key bits':>8} {'key bit/s':>10}"
    )
    lines = [header]
    for (plan, power), tel in teleport.iterrows():
        key = qkd.loc[(plan, power)]
        qber = "-" if key["qber"] != key["qber"] else f"{key['qber']:.2%}"
        secret = "abort" if key["aborted"] else f"{int(key['secret_key_bits'])}"
        rate = key["key_rate_bps"]
        rate_text = "-" if rate != rate or rate is None else f"{rate:.3g}"
        lines.append(
            f"{plan:<5} {power:6.1f} {tel['raman_photons']:10.3e} {tel['noise_per_window']:10.3e} "
            f"{tel['teleport_fidelity_mean']:10.4f} {qber:>7} {secret:>8} {rate_text:>10}"
        )
    return "\n".join(lines)


def plot(rows: Any, out: str) -> bool:
    """Save the two panels; False when the plot extra is not installed."""
    teleport = rows[rows["app"] == "teleport"].rename(columns={POWER_KEY: "power_dbm"})
    qkd = rows[rows["app"] == "qkd"].rename(columns={POWER_KEY: "power_dbm"})
    panels = [
        (teleport, PlotSpec("power_dbm", "teleport_fidelity_mean", hue="plan",
                            xlabel="classical launch power (dBm)",
                            ylabel="teleportation fidelity", title="teleportation")),
        (qkd, PlotSpec("power_dbm", "key_rate_bps", hue="plan",
                       xlabel="classical launch power (dBm)",
                       ylabel="secret key bits per second", title="BBM92 key rate")),
    ]  # fmt: skip
    try:
        save_figure(
            out,
            panels,
            "30 km double-click link sharing its fibre with classical light "
            "(illustrative Raman coefficients)",
        )
    except ImportError:
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="three launch powers")
    parser.add_argument(
        "--rho-oc",
        type=float,
        default=DEFAULT_RHO_OC,
        help=f"Raman coefficient O/C, 1/(km nm) (illustrative {DEFAULT_RHO_OC:g})",
    )
    parser.add_argument(
        "--rho-cc",
        type=float,
        default=DEFAULT_RHO_CC,
        help=f"Raman coefficient C/C, 1/(km nm) (illustrative {DEFAULT_RHO_CC:g})",
    )
    parser.add_argument("--seed", type=int, default=11, help="base seed of the sweeps")
    parser.add_argument("--workers", type=int, help="parallel runs (default: every core)")
    parser.add_argument("--out", default="coexistence.png", help="plot file")
    args = parser.parse_args(argv)  # fmt: skip
    powers = QUICK_POWERS_DBM if args.quick else POWERS_DBM
    print(
        f"30 km double-click link sharing its fibre with classical light; Raman coefficients "
        f"(illustrative inputs, not measurements): O/C {args.rho_oc:g}, C/C {args.rho_cc:g} "
        "per km per nm\n"
        "Raman/win = Raman photons counted per detection window at the station (both arms);\n"
        "noise/win = probability a detector fires without a photon from the nodes.\n",
        flush=True,
    )
    rows = run_plans(band_plans(args.rho_oc, args.rho_cc), powers, args.seed, args.workers)
    if not (rows["status"] == "done").all():
        print(rows[rows["status"] != "done"][["plan", POWER_KEY, "app", "status", "error"]])
        return 1
    print(table(rows))
    if plot(rows, args.out):
        print(f"\nplot saved to {args.out}")
    else:
        print("\nmatplotlib is not installed (pip install 'qstack[plot]'): no plot, table only")
    return 0


if __name__ == "__main__":
    sys.exit(main())
