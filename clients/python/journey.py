"""A new user's first day, through the Python client generated from /openapi.json:
a coffee typed in, a banana found by search and a bar by its barcode, a workout,
a weigh-in with a girth, a session set by set and its records, an exercise an
administrator added found and logged, and a phone's sync: what changed, and an
offline edit sent as a batch.

Run by crates/balancelife/tests/suite/clients.rs with the generated package on
PYTHONPATH: python journey.py <base URL> <e-mail> <admin e-mail> <admin password>.
Any failed step raises, so the process exits non-zero.
"""

import datetime
import sys
import uuid

from balance_life_api_client import AuthenticatedClient, Client
from balance_life_api_client.api.auth import login, register
from balance_life_api_client.api.body_metrics import put_body_metric
from balance_life_api_client.api.catalogue import (
    apply_workout_package,
    list_workout_packages,
)
from balance_life_api_client.api.catalogue_administration import (
    create_custom_exercise,
    publish_custom_exercise,
)
from balance_life_api_client.api.exercises import get_exercise, search_exercises
from balance_life_api_client.api.foods import create_food, food_by_barcode, search_foods
from balance_life_api_client.api.insights import summary
from balance_life_api_client.api.meal_entries import create_meal_entry
from balance_life_api_client.api.workout_entries import create_workout_entry
from balance_life_api_client.api.sync import sync_batch, sync_changes
from balance_life_api_client.api.training import training_progress
from balance_life_api_client.api.users import list_time_zones
from balance_life_api_client.models import (
    Activity,
    ApplyWorkoutPackage,
    BatchMethod,
    BatchRequest,
    BodyMetricInput,
    BodyMetricInputMeasurementsType0,
    CustomExerciseInput,
    ExerciseCategory,
    ExerciseLevel,
    FoodInput,
    FoodPortion,
    LoggedSet,
    LoginRequest,
    Muscle,
    MealEntryInput,
    MealSlot,
    NameInput,
    Nutrients,
    Operation,
    RegisterRequest,
    Serving,
    ServingPortion,
    Unit,
    WorkoutEntryInput,
)


def expect(response, status):
    assert response.status_code == status, (response.status_code, response.content)
    return response.parsed


def main(base_url: str, email: str, admin_email: str, admin_password: str) -> None:
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

    # A banana found by typing, with a typo: one of the starter foods, USDA's
    # numbers, logged by weight.
    found = expect(search_foods.sync_detailed(client=client, q="banans raw"), 200)
    banana = next(food for food in found.items if food.name.text == "Bananas, raw")
    assert banana.source_id == "173944", banana
    breakfast = expect(
        create_meal_entry.sync_detailed(
            client=client,
            body=MealEntryInput(
                eaten_at=datetime.datetime(2026, 3, 10, 7, 45, tzinfo=datetime.timezone.utc),
                slot=MealSlot.BREAKFAST,
                food=FoodPortion(food_id=banana.id, grams=118),
            ),
        ),
        201,
    )
    assert breakfast.kcal == 105.0, breakfast  # 89 kcal per 100 g

    # A bar of the user's own, found again by scanning its barcode, logged by serving.
    bar = expect(
        create_food.sync_detailed(
            client=client,
            body=FoodInput(
                name=NameInput(text="Oat bar"),
                nutrients=Nutrients(energy_kcal=420, protein_g=8, carbs_g=60, fat_g=16),
                barcodes=["4006381333931"],
                servings=[Serving(label="1 bar", grams=40)],
            ),
        ),
        201,
    )
    scanned = expect(food_by_barcode.sync_detailed("4006381333931", client=client), 200)
    assert scanned.id == bar.id, scanned
    snack = expect(
        create_meal_entry.sync_detailed(
            client=client,
            body=MealEntryInput(
                eaten_at=datetime.datetime(2026, 3, 10, 15, 0, tzinfo=datetime.timezone.utc),
                slot=MealSlot.SNACK,
                food=FoodPortion(food_id=scanned.id, serving=ServingPortion(label="1 bar", count=1)),
            ),
        ),
        201,
    )
    assert snack.kcal == 168.0, snack

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

    # A weigh-in with the hips measured, under an id the phone made: the profile's
    # weight follows it, and the day's summary shows it.
    measurement_id = uuid.uuid4()
    hips = BodyMetricInputMeasurementsType0.from_dict({"hips": 101.5})
    weighed = expect(
        put_body_metric.sync_detailed(
            measurement_id,
            client=client,
            body=BodyMetricInput(
                measured_at=datetime.datetime(2026, 3, 10, 6, 30, tzinfo=datetime.timezone.utc),
                weight_kg=72.4,
                measurements=hips,
            ),
        ),
        201,
    )
    assert weighed.id == measurement_id and weighed.measurements["hips"] == 101.5, weighed

    balance = expect(summary.sync_detailed(client=client, date=day), 200)
    assert balance.days[0].weight_kg == 72.4 and balance.days[0].trend_kg == 72.4, balance.days
    totals = balance.totals
    assert totals.kcal_in == 5 + 105 + 168, totals
    assert totals.kcal_out == burned, (totals, burned)
    assert totals.net == 5 + 105 + 168 - burned, totals
    assert totals.meal_entries_without_macros == 1, totals

    # A session set by set against the exercise library, its energy left to the
    # service (3.5 MET × 72.4 kg × ¾ h); the records come back.
    found = expect(search_exercises.sync_detailed(client=client, q="barbell squat", limit=10), 200)
    squat = next(exercise for exercise in found.items if exercise.id == "barbell-squat")
    session = expect(
        create_workout_entry.sync_detailed(
            client=client,
            body=WorkoutEntryInput(
                started_at=datetime.datetime(2026, 3, 10, 17, 0, tzinfo=datetime.timezone.utc),
                activity=Activity.STRENGTH,
                title="Legs",
                duration_s=2700,
                sets=[LoggedSet(exercise_id=squat.id, reps=5, weight_kg=100.0) for _ in range(3)],
            ),
        ),
        201,
    )
    assert session.kcal_estimated and abs(session.kcal_burned - 190.05) < 0.1, session
    progress = expect(training_progress.sync_detailed(client=client, exercise_id=squat.id), 200)
    records = progress.exercises[0]
    assert records.sessions == 1 and records.best_estimate.one_rep_max_kg == 116.7, records

    # An exercise the library lacks, added by an administrator: once published,
    # the user finds it beside the bundled ones and logs it by its UUID.
    signed_in = expect(
        login.sync_detailed(
            client=anonymous, body=LoginRequest(email=admin_email, password=admin_password)
        ),
        200,
    )
    admin = AuthenticatedClient(
        base_url=base_url, token=signed_in.token, raise_on_unexpected_status=True
    )
    added = expect(
        create_custom_exercise.sync_detailed(
            client=admin,
            body=CustomExerciseInput(
                slug="journey-sandbag-jump",
                name="Journey Sandbag Jump",
                category=ExerciseCategory.PLYOMETRICS,
                level=ExerciseLevel.INTERMEDIATE,
                primary_muscles=[Muscle.QUADRICEPS, Muscle.GLUTES],
            ),
        ),
        201,
    )
    assert added.status.value == "draft", added
    expect(publish_custom_exercise.sync_detailed(client=admin, id=added.id), 200)
    found = expect(search_exercises.sync_detailed(client=client, q="journey sandbag"), 200)
    jump = next(exercise for exercise in found.items if exercise.id == str(added.id))
    assert expect(get_exercise.sync_detailed(client=client, id=jump.id), 200).name == jump.name
    jumps = expect(
        create_workout_entry.sync_detailed(
            client=client,
            body=WorkoutEntryInput(
                started_at=datetime.datetime(2026, 3, 10, 18, 0, tzinfo=datetime.timezone.utc),
                activity=Activity.STRENGTH,
                title="Jumps",
                duration_s=600,
                sets=[LoggedSet(exercise_id=jump.id, reps=10) for _ in range(3)],
                kcal_burned=60.0,
            ),
        ),
        201,
    )
    assert jumps.sets[0].exercise_id == jump.id, jumps

    # A phone's first sync: the profile and everything logged, then a deletion it
    # made offline, sent as a batch, comes back as a tombstone.
    first = expect(sync_changes.sync_detailed(client=client, limit=100), 200)
    kinds = sorted(change.kind.value for change in first.changes)
    assert kinds.count("meal_entry") == 3 and "profile" in kinds, kinds
    assert kinds.count("body_metric") == 1, kinds
    batch = expect(
        sync_batch.sync_detailed(
            client=client,
            body=BatchRequest(
                id=uuid.uuid4(),
                operations=[
                    Operation(method=BatchMethod.DELETE, path=f"/api/v1/meal-entries/{coffee.id}")
                ],
            ),
        ),
        200,
    )
    assert [result.status for result in batch.results] == [204], batch
    since = expect(sync_changes.sync_detailed(client=client, since=first.cursor), 200)
    assert [(change.op.value, change.id) for change in since.changes] == [("delete", coffee.id)], since
    print(f"journey ok: in {totals.kcal_in}, out {totals.kcal_out}, net {totals.net}")


if __name__ == "__main__":
    main(*sys.argv[1:5])
