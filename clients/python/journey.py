"""A new user's first day, through the Python client generated from /openapi.json.

Run by crates/balancelife/tests/suite/clients.rs with the generated package on
PYTHONPATH: python journey.py <base URL> <e-mail>. Any failed step raises, so the
process exits non-zero.
"""

import datetime
import sys

from balance_life_api_client import AuthenticatedClient, Client
from balance_life_api_client.api.auth import register
from balance_life_api_client.api.catalogue import (
    apply_workout_package,
    list_workout_packages,
)
from balance_life_api_client.api.insights import summary
from balance_life_api_client.api.meal_entries import create_meal_entry
from balance_life_api_client.api.users import list_time_zones
from balance_life_api_client.models import (
    ApplyWorkoutPackage,
    MealEntryInput,
    MealSlot,
    RegisterRequest,
    Unit,
)


def expect(response, status):
    assert response.status_code == status, (response.status_code, response.content)
    return response.parsed


def main(base_url: str, email: str) -> None:
    anonymous = Client(base_url=base_url, raise_on_unexpected_status=True)
    zones = expect(list_time_zones.sync_detailed(client=anonymous), 200)
    assert "Europe/Berlin" in zones.items

    session = expect(
        register.sync_detailed(
            client=anonymous,
            body=RegisterRequest(
                email=email,
                password="a long enough password",
                name="Client journey",
                timezone="Europe/Berlin",
                daily_kcal_target=2000,
            ),
        ),
        201,
    )
    client = AuthenticatedClient(
        base_url=base_url, token=session.token, raise_on_unexpected_status=True
    )
    day = datetime.date(2026, 3, 10)

    # A coffee logged by its calories alone: macros unknown, not zero.
    coffee = expect(
        create_meal_entry.sync_detailed(
            client=client,
            body=MealEntryInput(
                eaten_at=datetime.datetime(2026, 3, 10, 7, 30, tzinfo=datetime.timezone.utc),
                slot=MealSlot.BREAKFAST,
                name="Coffee",
                quantity=250,
                unit=Unit.ML,
                kcal=5,
            ),
        ),
        201,
    )
    assert coffee.protein_g is None, coffee

    plans = expect(list_workout_packages.sync_detailed(client=anonymous), 200)
    plan = plans.items[0]
    session_day = plan.sessions[0]
    applied = expect(
        apply_workout_package.sync_detailed(
            plan.id,
            client=client,
            body=ApplyWorkoutPackage(date=day, week=session_day.week, day=session_day.day),
        ),
        201,
    )
    assert applied.created == 1, applied
    burned = applied.entries[0].kcal_burned

    balance = expect(summary.sync_detailed(client=client, date=day), 200)
    totals = balance.totals
    assert totals.kcal_in == 5, totals
    assert totals.kcal_out == burned, (totals, burned)
    assert totals.net == 5 - burned, totals
    assert totals.meal_entries_without_macros == 1, totals
    print(f"journey ok: in {totals.kcal_in}, out {totals.kcal_out}, net {totals.net}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
