//! The sample data every store loads: the published meal and workout catalogue and
//! two demo accounts with a few days of history. Keeping it in one place means the
//! memory store and MongoDB serve the same demo, and because every id is fixed,
//! loading it again, into a fresh store or one that already holds it, writes nothing
//! twice.

use std::fmt::Debug;
use std::str::FromStr;

use chrono::{DateTime, Days, NaiveDate, NaiveTime, TimeZone, Utc};
use uuid::Uuid;

use crate::domain::{
    Activity, ActivityLevel, Entry, EntryData, EntrySource, Exercise, ExerciseDose, Goal,
    InvalidValue, Level, MealData, MealEntry, MealItem, MealPackage, MealSlot, Nutrition, Package,
    PackageRef, PasswordHash, Profile, Role, Sex, Tag, Timezone, Unit, User, Version, WorkoutData,
    WorkoutEntry, WorkoutPackage, WorkoutSession,
};
use crate::store::{Store, StoreError, StoreResult, Written};

// ---------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------

/// Credentials of a demo account, published so the README and the login screen can
/// offer them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoAccount {
    pub email: &'static str,
    pub password: &'static str,
    pub role: Role,
}

pub const DEMO_ACCOUNTS: [DemoAccount; 2] = [
    DemoAccount {
        email: "ada@balancelife.example",
        password: "demo-password-ada",
        role: Role::User,
    },
    DemoAccount {
        email: "coach@balancelife.example",
        password: "demo-password-coach",
        role: Role::Admin,
    },
];

/// How many documents a `load` wrote and how many it found already in place.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct LoadReport {
    pub created: usize,
    pub unchanged: usize,
}

impl LoadReport {
    fn count(&mut self, created: bool) {
        if created {
            self.created += 1;
        } else {
            self.unchanged += 1;
        }
    }
}

/// Writes the whole sample into `store`. Safe to run at every start: what is already
/// there is left alone, including demo users someone has since edited.
pub async fn load(store: &dyn Store, now: DateTime<Utc>) -> StoreResult<LoadReport> {
    let mut report = LoadReport::default();
    for package in meal_packages() {
        let written = store.meal_packages().upsert(package).await?;
        report.count(written.was_created());
    }
    for package in workout_packages() {
        let written = store.workout_packages().upsert(package).await?;
        report.count(written.was_created());
    }

    let mut owners = Vec::new();
    for user in demo_users(now) {
        let id = user.id;
        match store.create_user(user).await {
            Ok(_) => report.count(true),
            Err(StoreError::Conflict(_)) => {
                report.count(false);
                // Someone may have registered a demo e-mail before the first seeding;
                // that account is theirs, not ours to fill with demo history.
                match store.get_user(id).await {
                    Ok(_) => {}
                    Err(StoreError::NotFound) => continue,
                    Err(error) => return Err(error),
                }
            }
            Err(error) => return Err(error),
        }
        owners.push(id);
    }

    for entry in demo_meal_entries(now) {
        if owners.contains(&entry.user_id) {
            report.count(entry_created(store.meal_entries().create(entry).await)?);
        }
    }
    for entry in demo_workout_entries(now) {
        if owners.contains(&entry.user_id) {
            report.count(entry_created(store.workout_entries().create(entry).await)?);
        }
    }
    Ok(report)
}

/// A conflict means an earlier run, from an older version of this sample, wrote other
/// content under the id: the demo history is there either way, and rewriting a log
/// is not the seeder's business.
fn entry_created<T>(result: StoreResult<Written<T>>) -> StoreResult<bool> {
    match result {
        Ok(written) => Ok(written.was_created()),
        Err(StoreError::Conflict(_)) => Ok(false),
        Err(error) => Err(error),
    }
}

pub fn meal_packages() -> Vec<MealPackage> {
    MEAL_PLANS
        .iter()
        .zip(1..)
        .map(|(plan, n)| plan.build(fixed_id(NS_MEAL_PACKAGE, n)))
        .collect()
}

pub fn workout_packages() -> Vec<WorkoutPackage> {
    WORKOUT_PLANS
        .iter()
        .zip(1..)
        .map(|(plan, n)| plan.build(fixed_id(NS_WORKOUT_PACKAGE, n)))
        .collect()
}

/// The demo accounts, in the order of `DEMO_ACCOUNTS`.
pub fn demo_users(now: DateTime<Utc>) -> Vec<User> {
    let ada = Profile {
        birth_date: Some(valid(date(1991, 4, 12))),
        sex: Some(Sex::Female),
        height_cm: Some(valid(168.0)),
        weight_kg: Some(valid(71.5)),
        activity_level: Some(ActivityLevel::Moderate),
        goal: Some(Goal::Lose),
        daily_kcal_target: Some(valid(1900.0)),
        protein_g_target: Some(valid(120.0)),
        carbs_g_target: Some(valid(205.0)),
        fat_g_target: Some(valid(65.0)),
    };
    let coach = Profile {
        birth_date: Some(valid(date(1986, 9, 3))),
        sex: Some(Sex::Male),
        height_cm: Some(valid(181.0)),
        weight_kg: Some(valid(82.0)),
        activity_level: Some(ActivityLevel::Active),
        goal: Some(Goal::Maintain),
        daily_kcal_target: Some(valid(2400.0)),
        protein_g_target: Some(valid(160.0)),
        carbs_g_target: Some(valid(270.0)),
        fat_g_target: Some(valid(75.0)),
    };
    let people = [
        ("Ada Fischer", "Europe/Berlin", ADA_PASSWORD_HASH, ada),
        ("Sam Rivera", "America/New_York", COACH_PASSWORD_HASH, coach),
    ];
    DEMO_ACCOUNTS
        .iter()
        .zip(people)
        .zip(1..)
        .map(|((account, (name, timezone, hash, profile)), n)| User {
            id: fixed_id(NS_USER, n),
            email: parsed(account.email),
            name: valid(name),
            password_hash: PasswordHash::from_phc(hash.to_owned()),
            role: account.role,
            timezone: parsed(timezone),
            profile,
            created_at: now,
            updated_at: now,
        })
        .collect()
}

/// Three to four meals a day for each demo user over their last three local days,
/// today included. Every third day follows a meal package.
pub fn demo_meal_entries(now: DateTime<Utc>) -> Vec<MealEntry> {
    let packages = meal_packages();
    let mut entries = Vec::new();
    let users = demo_users(now);
    for ((user, log), namespace) in users.iter().zip(&DEMO_LOGS).zip(NS_MEAL_ENTRY..) {
        for date in recent_days(user.timezone, now) {
            let day = DemoDay::of(date);
            let meals: Vec<MealData> = match day.rotation() {
                0 => {
                    let package = by_slug(&packages, log.meal_package);
                    package_day_meals(package, day, user.timezone, date)
                }
                own => log.own_days[own - 1]
                    .iter()
                    .map(|meal| meal.data(user.timezone, date))
                    .collect(),
            };
            for data in meals {
                let id = fixed_id(namespace, day.id_number(slot_index(data.slot)));
                entries.push(entry(id, user, data, now));
            }
        }
    }
    entries
}

/// One workout on two of each demo user's last three local days; one of the two
/// follows a workout package.
pub fn demo_workout_entries(now: DateTime<Utc>) -> Vec<WorkoutEntry> {
    let packages = workout_packages();
    let mut entries = Vec::new();
    let users = demo_users(now);
    for ((user, log), namespace) in users.iter().zip(&DEMO_LOGS).zip(NS_WORKOUT_ENTRY..) {
        for date in recent_days(user.timezone, now) {
            let day = DemoDay::of(date);
            let data = match day.rotation() {
                0 => {
                    let plan = &log.package_workout;
                    let package = by_slug(&packages, plan.slug);
                    plan.data(package, day, user.timezone, date)
                }
                1 => log.own_workout.data(user.timezone, date),
                _ => continue, // a rest day
            };
            let id = fixed_id(namespace, day.id_number(0));
            entries.push(entry(id, user, data, now));
        }
    }
    entries
}

// ---------------------------------------------------------------------------------
// Data
// ---------------------------------------------------------------------------------

/// Argon2id (m=19456, t=2, p=1) of `demo-password-ada`.
const ADA_PASSWORD_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$9vaGUkABjM2gpAQmIjeRHA$0yZFrHyhqZrgU6kJQoUAP57Nm9cVXe4MygWoQDyRCfs";
/// Argon2id (m=19456, t=2, p=1) of `demo-password-coach`.
const COACH_PASSWORD_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$dwVrTyEhLAoC1QYaLBYOKA$dwYse/bSrwXHyj4Di1uRpX97YnkQENutB3GnQ5oCy0g";

// The tables below are kept out of rustfmt: one dish or exercise per line reads as a
// table, while rustfmt would spread every call over eight lines.

#[rustfmt::skip]
static MEAL_PLANS: &[MealPlan] = &[
    MealPlan {
        slug: "mediterranean-table",
        name: "Mediterranean Table",
        description: "A week of sunny, unhurried cooking: olive oil, legumes, fish twice and plenty of vegetables. Around 1,800 kcal a day, built on the eating pattern with the strongest evidence for heart health.",
        tags: &["family", "heart-healthy"],
        diet_tags: &["mediterranean", "pescatarian"],
        duration_days: 7,
        menus: &[
            Menu {
                breakfast: dish("Greek yogurt with honey, walnuts and berries", 250.0, 340.0, 18.0, 34.0, 15.0),
                lunch: dish("Chickpea, feta and cucumber salad with pita", 380.0, 560.0, 22.0, 62.0, 24.0),
                dinner: dish("Baked sea bream with lemon potatoes and olives", 450.0, 620.0, 42.0, 48.0, 27.0),
                snack: Some(dish("Orange and a handful of almonds", 180.0, 210.0, 6.0, 20.0, 12.0)),
            },
            Menu {
                breakfast: dish("Tomato toast with olive oil and a boiled egg", 200.0, 330.0, 14.0, 36.0, 15.0),
                lunch: dish("Lentil and roasted vegetable soup with bread", 450.0, 480.0, 24.0, 66.0, 12.0),
                dinner: dish("Shrimp orzo with spinach and cherry tomatoes", 420.0, 590.0, 38.0, 68.0, 16.0),
                snack: Some(dish("Hummus with carrot and pepper sticks", 200.0, 230.0, 8.0, 22.0, 13.0)),
            },
            Menu {
                breakfast: dish("Shakshuka with wholegrain bread", 320.0, 410.0, 20.0, 38.0, 19.0),
                lunch: dish("Tuna, white bean and rocket salad", 350.0, 470.0, 36.0, 34.0, 20.0),
                dinner: dish("Vegetable moussaka with a green salad", 450.0, 560.0, 24.0, 46.0, 30.0),
                snack: Some(dish("Dates and pistachios", 60.0, 220.0, 5.0, 30.0, 10.0)),
            },
        ],
    },
    MealPlan {
        slug: "lean-and-strong",
        name: "Lean & Strong",
        description: "Five days of high-protein, gluten-free meals that batch-cook well: about 150 g of protein a day from lean meat, fish, eggs and dairy, to back up a strength programme.",
        tags: &["high-protein", "meal-prep", "muscle-gain"],
        diet_tags: &["gluten-free"],
        duration_days: 5,
        menus: &[
            Menu {
                breakfast: dish("Egg-white omelette with spinach, feta and potatoes", 350.0, 420.0, 38.0, 30.0, 16.0),
                lunch: dish("Chicken breast with jasmine rice and broccoli", 450.0, 620.0, 52.0, 72.0, 12.0),
                dinner: dish("Lean beef chili with kidney beans", 420.0, 560.0, 46.0, 44.0, 20.0),
                snack: Some(dish("Skyr with strawberries", 250.0, 195.0, 25.0, 20.0, 1.0)),
            },
            Menu {
                breakfast: dish("Cottage cheese bowl with pineapple and gluten-free oats", 300.0, 400.0, 32.0, 46.0, 9.0),
                lunch: dish("Turkey meatballs with quinoa and roasted peppers", 420.0, 590.0, 48.0, 56.0, 18.0),
                dinner: dish("Salmon fillet, sweet potato mash and asparagus", 430.0, 640.0, 42.0, 52.0, 28.0),
                snack: Some(dish("Protein shake with banana", 400.0, 280.0, 30.0, 34.0, 4.0)),
            },
        ],
    },
    MealPlan {
        slug: "plant-power",
        name: "Plant Power",
        description: "Hearty vegan cooking with beans, lentils, tofu and whole grains. Over 35 g of fibre a day and enough protein to stay full, on a modest shopping budget.",
        tags: &["high-fiber", "budget"],
        diet_tags: &["vegan", "vegetarian", "dairy-free"],
        duration_days: 5,
        menus: &[
            Menu {
                breakfast: dish("Peanut butter oatmeal with banana", 350.0, 450.0, 15.0, 62.0, 17.0),
                lunch: dish("Black bean and sweet potato tacos", 400.0, 560.0, 20.0, 84.0, 16.0),
                dinner: dish("Tofu green curry with brown rice", 480.0, 640.0, 26.0, 78.0, 25.0),
                snack: Some(dish("Roasted chickpeas", 50.0, 180.0, 9.0, 24.0, 5.0)),
            },
            Menu {
                breakfast: dish("Chia pudding with soy milk and mango", 280.0, 340.0, 11.0, 40.0, 15.0),
                lunch: dish("Falafel wrap with tahini and pickled cabbage", 350.0, 590.0, 20.0, 70.0, 26.0),
                dinner: dish("Red lentil dal with spinach and basmati rice", 480.0, 580.0, 26.0, 92.0, 11.0),
                snack: None,
            },
            Menu {
                breakfast: dish("Tofu scramble with peppers on rye toast", 300.0, 380.0, 24.0, 32.0, 17.0),
                lunch: dish("Quinoa, edamame and roasted squash bowl", 400.0, 520.0, 24.0, 64.0, 18.0),
                dinner: dish("Mushroom and walnut bolognese with spaghetti", 450.0, 650.0, 24.0, 88.0, 22.0),
                snack: Some(dish("Apple with almond butter", 200.0, 200.0, 5.0, 24.0, 9.0)),
            },
        ],
    },
    MealPlan {
        slug: "quick-weekdays",
        name: "Quick Weekdays",
        description: "Nothing here takes longer than 15 minutes: smoothies, wraps and one-pan dinners for busy evenings, with leftovers that travel well to work.",
        tags: &["quick", "family"],
        diet_tags: &["omnivore"],
        duration_days: 4,
        menus: &[
            Menu {
                breakfast: dish("Banana and peanut butter smoothie", 400.0, 390.0, 16.0, 52.0, 14.0),
                lunch: dish("Chicken Caesar wrap", 300.0, 540.0, 36.0, 44.0, 24.0),
                dinner: dish("Pesto gnocchi with cherry tomatoes and mozzarella", 400.0, 650.0, 22.0, 82.0, 26.0),
                snack: None,
            },
            Menu {
                breakfast: dish("Bagel with cream cheese and cucumber", 150.0, 360.0, 12.0, 52.0, 11.0),
                lunch: dish("Tuna melt on sourdough with a side salad", 320.0, 560.0, 34.0, 46.0, 26.0),
                dinner: dish("Teriyaki salmon with rice and edamame", 420.0, 640.0, 40.0, 70.0, 20.0),
                snack: Some(dish("Trail mix", 40.0, 190.0, 5.0, 16.0, 12.0)),
            },
        ],
    },
    MealPlan {
        slug: "budget-batch-cook",
        name: "Budget Batch Cook",
        description: "A vegetarian week built from pantry staples: cook a big pot on Sunday, reuse it twice, and keep a family of four fed for little money.",
        tags: &["budget", "meal-prep", "family"],
        diet_tags: &["vegetarian"],
        duration_days: 7,
        menus: &[
            Menu {
                breakfast: dish("Porridge with grated apple and cinnamon", 350.0, 330.0, 11.0, 56.0, 7.0),
                lunch: dish("Vegetable chili with rice", 450.0, 560.0, 20.0, 90.0, 12.0),
                dinner: dish("Baked potato with beans and cheddar", 450.0, 580.0, 24.0, 82.0, 17.0),
                snack: Some(dish("Carrot sticks with peanut butter", 150.0, 190.0, 6.0, 12.0, 13.0)),
            },
            Menu {
                breakfast: dish("Two boiled eggs with toast soldiers", 200.0, 350.0, 19.0, 30.0, 16.0),
                lunch: dish("Minestrone with pasta and white beans", 450.0, 420.0, 18.0, 66.0, 9.0),
                dinner: dish("Spinach and ricotta frittata with salad", 380.0, 520.0, 32.0, 22.0, 33.0),
                snack: Some(dish("Banana and a glass of milk", 370.0, 230.0, 9.0, 38.0, 5.0)),
            },
        ],
    },
    MealPlan {
        slug: "keto-kickstart",
        name: "Keto Kickstart",
        description: "Three low-carb days to try ketogenic eating without the guesswork: under 40 g of carbohydrate a day, generous fats and simple, quick recipes.",
        tags: &["low-carb", "quick"],
        diet_tags: &["keto-friendly", "gluten-free"],
        duration_days: 3,
        menus: &[
            Menu {
                breakfast: dish("Bacon, eggs and sautéed spinach", 250.0, 480.0, 28.0, 4.0, 39.0),
                lunch: dish("Cobb salad with chicken, avocado and blue cheese", 400.0, 620.0, 44.0, 10.0, 45.0),
                dinner: dish("Pan-fried salmon with creamed spinach and cauliflower mash", 450.0, 690.0, 44.0, 12.0, 52.0),
                snack: Some(dish("Cheese crisps with cucumber", 80.0, 180.0, 12.0, 3.0, 13.0)),
            },
            Menu {
                breakfast: dish("Full-fat Greek yogurt with walnuts and raspberries", 220.0, 360.0, 16.0, 11.0, 28.0),
                lunch: dish("Lettuce-wrap burgers with cheddar and pickles", 350.0, 640.0, 42.0, 8.0, 49.0),
                dinner: dish("Chicken thighs with garlic butter and green beans", 420.0, 680.0, 46.0, 10.0, 50.0),
                snack: Some(dish("Olives and almonds", 70.0, 230.0, 6.0, 5.0, 21.0)),
            },
        ],
    },
    MealPlan {
        slug: "ocean-and-greens",
        name: "Ocean & Greens",
        description: "Oily fish three times a week, seafood on the other days and vegetables at every meal: a gluten-free pescatarian plan rich in omega-3 fats.",
        tags: &["heart-healthy", "omega-3"],
        diet_tags: &["pescatarian", "gluten-free"],
        duration_days: 5,
        menus: &[
            Menu {
                breakfast: dish("Smoked salmon with scrambled eggs and avocado", 250.0, 430.0, 30.0, 6.0, 32.0),
                lunch: dish("Tuna poke bowl with rice and edamame", 420.0, 590.0, 38.0, 70.0, 16.0),
                dinner: dish("Baked cod with quinoa and roasted vegetables", 460.0, 560.0, 44.0, 52.0, 18.0),
                snack: Some(dish("Rice cakes with avocado", 110.0, 180.0, 3.0, 20.0, 10.0)),
            },
            Menu {
                breakfast: dish("Buckwheat porridge with berries and flaxseed", 330.0, 370.0, 12.0, 56.0, 11.0),
                lunch: dish("Sardine, potato and green bean salad", 380.0, 520.0, 30.0, 40.0, 26.0),
                dinner: dish("Garlic prawns with courgette, peppers and jasmine rice", 450.0, 560.0, 36.0, 68.0, 14.0),
                snack: None,
            },
            Menu {
                breakfast: dish("Yogurt parfait with gluten-free granola and kiwi", 280.0, 350.0, 16.0, 50.0, 10.0),
                lunch: dish("Mackerel and beetroot salad with new potatoes", 400.0, 560.0, 28.0, 38.0, 32.0),
                dinner: dish("Salmon and vegetable curry with brown rice", 470.0, 650.0, 40.0, 66.0, 24.0),
                snack: Some(dish("Pear and a few walnuts", 200.0, 190.0, 3.0, 26.0, 9.0)),
            },
        ],
    },
    MealPlan {
        slug: "family-favourites",
        name: "Family Favourites",
        description: "Six days of dinners the kids ask for again, quietly packed with vegetables, plus breakfasts and lunches the whole family shares.",
        tags: &["family", "kid-friendly"],
        diet_tags: &["omnivore"],
        duration_days: 6,
        menus: &[
            Menu {
                breakfast: dish("Wholegrain pancakes with berries and yogurt", 280.0, 420.0, 16.0, 64.0, 11.0),
                lunch: dish("Chicken, hummus and veggie pitta pockets", 320.0, 500.0, 34.0, 52.0, 16.0),
                dinner: dish("Turkey burgers with oven wedges and slaw", 480.0, 720.0, 42.0, 74.0, 28.0),
                snack: Some(dish("Cheese and apple slices", 150.0, 200.0, 8.0, 18.0, 11.0)),
            },
            Menu {
                breakfast: dish("Cinnamon porridge with banana", 350.0, 360.0, 12.0, 62.0, 7.0),
                lunch: dish("Cheese and tomato quesadillas with corn salad", 300.0, 540.0, 24.0, 56.0, 24.0),
                dinner: dish("Spaghetti bolognese with hidden vegetables", 450.0, 680.0, 38.0, 82.0, 20.0),
                snack: None,
            },
            Menu {
                breakfast: dish("Scrambled eggs on toast with orange slices", 280.0, 400.0, 20.0, 40.0, 17.0),
                lunch: dish("Tomato soup with grilled cheese fingers", 420.0, 520.0, 20.0, 54.0, 24.0),
                dinner: dish("Fish pie with peas", 450.0, 620.0, 38.0, 56.0, 26.0),
                snack: Some(dish("Frozen yogurt bark with strawberries", 120.0, 160.0, 7.0, 24.0, 4.0)),
            },
        ],
    },
    MealPlan {
        slug: "light-and-satisfying",
        name: "Light & Satisfying",
        description: "About 1,400 kcal a day without going hungry: vegetarian meals high in protein and fibre, for a steady and sustainable weight loss.",
        tags: &["weight-loss", "high-fiber", "quick"],
        diet_tags: &["vegetarian"],
        duration_days: 7,
        menus: &[
            Menu {
                breakfast: dish("Berry and spinach smoothie with oats", 400.0, 290.0, 14.0, 44.0, 6.0),
                lunch: dish("Garden salad with eggs, beans and vinaigrette", 420.0, 430.0, 22.0, 32.0, 22.0),
                dinner: dish("Vegetable and halloumi traybake with couscous", 420.0, 560.0, 24.0, 52.0, 28.0),
                snack: Some(dish("Skyr with cinnamon", 170.0, 110.0, 18.0, 8.0, 0.5)),
            },
            Menu {
                breakfast: dish("Cottage cheese on rye crispbread with tomato", 200.0, 270.0, 20.0, 26.0, 9.0),
                lunch: dish("Miso soup with soba noodles and tofu", 450.0, 420.0, 22.0, 58.0, 10.0),
                dinner: dish("Stuffed peppers with lentils and feta", 450.0, 520.0, 26.0, 58.0, 18.0),
                snack: Some(dish("Apple and a small handful of almonds", 200.0, 160.0, 4.0, 20.0, 8.0)),
            },
        ],
    },
];

#[rustfmt::skip]
static WORKOUT_PLANS: &[WorkoutPlan] = &[
    WorkoutPlan {
        slug: "first-steps-full-body",
        name: "First Steps Full Body",
        description: "Three short bodyweight sessions a week that teach the basic movement patterns: squat, hinge, push and brace. No gym needed, just a mat.",
        level: Level::Beginner,
        tags: &["strength", "full-body", "home"],
        equipment: &["mat"],
        duration_weeks: 4,
        sessions_per_week: 3,
        minutes_per_session: 30,
        kcal_per_session: 180.0,
        templates: &[
            SessionTemplate {
                title: "Full body A",
                exercises: &[
                    reps("Bodyweight squat", 3, 12, 60),
                    reps("Incline push-up", 3, 10, 60),
                    reps("Glute bridge", 3, 12, 45),
                    reps("Bird dog", 3, 10, 45),
                    timed("Forearm plank", 3, 30, 45),
                ],
            },
            SessionTemplate {
                title: "Full body B",
                exercises: &[
                    reps("Reverse lunge", 3, 10, 60),
                    reps("Knee push-up", 3, 8, 60),
                    reps("Superman", 3, 12, 45),
                    reps("Dead bug", 3, 10, 45),
                    timed("Side plank", 2, 20, 45),
                ],
            },
        ],
    },
    WorkoutPlan {
        slug: "morning-mobility-flow",
        name: "Morning Mobility Flow",
        description: "Twenty gentle minutes each weekday morning to loosen hips, spine and shoulders after a night's sleep or a day at the desk.",
        level: Level::Beginner,
        tags: &["mobility", "flexibility", "home"],
        equipment: &["mat"],
        duration_weeks: 2,
        sessions_per_week: 5,
        minutes_per_session: 20,
        kcal_per_session: 80.0,
        templates: &[
            SessionTemplate {
                title: "Hips and spine",
                exercises: &[
                    timed("Cat-cow", 2, 60, 15),
                    reps("World's greatest stretch", 2, 8, 15),
                    reps("90/90 hip switch", 2, 10, 15),
                    reps("Thoracic rotation", 2, 10, 15),
                    timed("Child's pose", 1, 60, 0),
                ],
            },
            SessionTemplate {
                title: "Shoulders and hamstrings",
                exercises: &[
                    timed("Arm circles", 2, 30, 10),
                    reps("Thread the needle", 2, 8, 15),
                    timed("Downward dog", 2, 45, 15),
                    reps("Standing hamstring sweep", 2, 10, 15),
                    timed("Deep squat hold", 2, 45, 15),
                ],
            },
            SessionTemplate {
                title: "Full-body flow",
                exercises: &[
                    timed("Sun salutation", 3, 60, 15),
                    reps("Cossack squat", 2, 8, 20),
                    timed("Pigeon pose", 2, 45, 15),
                    timed("Supine twist", 2, 45, 0),
                ],
            },
        ],
    },
    WorkoutPlan {
        slug: "core-and-posture",
        name: "Core & Posture",
        description: "Pilates-inspired sessions that build a steady trunk and an upright back, the foundation for everything else and a relief for desk-bound shoulders.",
        level: Level::Beginner,
        tags: &["core", "mobility", "home"],
        equipment: &["mat"],
        duration_weeks: 3,
        sessions_per_week: 3,
        minutes_per_session: 25,
        kcal_per_session: 120.0,
        templates: &[
            SessionTemplate {
                title: "Core stability",
                exercises: &[
                    reps("Dead bug", 3, 10, 30),
                    timed("Forearm plank", 3, 30, 30),
                    reps("Glute bridge march", 3, 10, 30),
                    reps("Bird dog", 3, 10, 30),
                    timed("Side plank", 2, 25, 30),
                ],
            },
            SessionTemplate {
                title: "Posture and back",
                exercises: &[
                    reps("Prone Y-T-W raise", 3, 8, 30),
                    reps("Wall angel", 3, 10, 30),
                    timed("Superman hold", 3, 20, 30),
                    timed("Cat-cow", 2, 60, 15),
                    timed("Hollow body hold", 3, 20, 30),
                ],
            },
        ],
    },
    WorkoutPlan {
        slug: "dumbbell-strength-builder",
        name: "Dumbbell Strength Builder",
        description: "An upper/lower split four times a week with a pair of adjustable dumbbells and a bench. Add weight whenever every set reaches the top of its rep range.",
        level: Level::Intermediate,
        tags: &["strength", "muscle-gain", "home"],
        equipment: &["dumbbells", "bench"],
        duration_weeks: 6,
        sessions_per_week: 4,
        minutes_per_session: 45,
        kcal_per_session: 300.0,
        templates: &[
            SessionTemplate {
                title: "Upper body",
                exercises: &[
                    reps("Dumbbell bench press", 4, 10, 90),
                    reps("One-arm dumbbell row", 4, 10, 90),
                    reps("Seated shoulder press", 3, 10, 75),
                    reps("Hammer curl", 3, 12, 60),
                    reps("Overhead triceps extension", 3, 12, 60),
                ],
            },
            SessionTemplate {
                title: "Lower body",
                exercises: &[
                    reps("Goblet squat", 4, 10, 90),
                    reps("Dumbbell Romanian deadlift", 4, 10, 90),
                    reps("Walking lunge", 3, 12, 75),
                    reps("Dumbbell calf raise", 3, 15, 45),
                    timed("Forearm plank", 3, 45, 45),
                ],
            },
        ],
    },
    WorkoutPlan {
        slug: "kettlebell-conditioning",
        name: "Kettlebell Conditioning",
        description: "Swings, cleans and carries in compact circuits: strength and conditioning in one, with a single kettlebell and a few square metres of floor.",
        level: Level::Intermediate,
        tags: &["cardio", "fat-loss", "conditioning", "home"],
        equipment: &["kettlebell"],
        duration_weeks: 4,
        sessions_per_week: 3,
        minutes_per_session: 35,
        kcal_per_session: 380.0,
        templates: &[
            SessionTemplate {
                title: "Swing and squat circuit",
                exercises: &[
                    reps("Kettlebell swing", 5, 20, 45),
                    reps("Goblet squat", 4, 12, 60),
                    reps("Push-up", 4, 12, 45),
                    reps("Kettlebell high pull", 3, 12, 45),
                    timed("Farmer's march", 3, 40, 45),
                ],
            },
            SessionTemplate {
                title: "Complexes and carries",
                exercises: &[
                    reps("Turkish get-up", 3, 3, 60),
                    reps("Kettlebell clean and press", 4, 8, 60),
                    reps("Reverse lunge", 3, 10, 45),
                    reps("Russian twist", 3, 20, 30),
                    timed("Suitcase carry", 3, 40, 45),
                ],
            },
        ],
    },
    WorkoutPlan {
        slug: "indoor-cycling-base",
        name: "Indoor Cycling Base",
        description: "Build an aerobic engine on a stationary bike: one long steady ride, one threshold session and one with cadence drills and short sprints each week.",
        level: Level::Intermediate,
        tags: &["cardio", "endurance"],
        equipment: &["bike"],
        duration_weeks: 6,
        sessions_per_week: 3,
        minutes_per_session: 45,
        kcal_per_session: 450.0,
        templates: &[
            SessionTemplate {
                title: "Endurance ride",
                exercises: &[
                    timed("Warm-up spin", 1, 600, 0),
                    timed("Zone 2 steady ride", 1, 1800, 0),
                    timed("Cool-down spin", 1, 300, 0),
                ],
            },
            SessionTemplate {
                title: "Threshold intervals",
                exercises: &[
                    timed("Warm-up spin", 1, 600, 0),
                    timed("Threshold interval", 4, 300, 120),
                    timed("Cool-down spin", 1, 420, 0),
                ],
            },
            SessionTemplate {
                title: "Cadence and sprints",
                exercises: &[
                    timed("Warm-up spin", 1, 600, 0),
                    timed("High-cadence drill", 6, 60, 60),
                    timed("Seated sprint", 8, 20, 100),
                    timed("Cool-down spin", 1, 300, 0),
                ],
            },
        ],
    },
    WorkoutPlan {
        slug: "hiit-fat-burner",
        name: "HIIT Fat Burner",
        description: "Four short, brutal interval sessions a week with nothing but your body weight. Expect to be out of breath; not for the first weeks of training.",
        level: Level::Advanced,
        tags: &["hiit", "cardio", "fat-loss", "home"],
        equipment: &["none"],
        duration_weeks: 4,
        sessions_per_week: 4,
        minutes_per_session: 25,
        kcal_per_session: 320.0,
        templates: &[
            SessionTemplate {
                title: "Tabata burn",
                exercises: &[
                    timed("Burpee", 8, 20, 10),
                    timed("Jump squat", 8, 20, 10),
                    timed("Mountain climber", 8, 20, 10),
                    timed("High knees", 8, 20, 10),
                ],
            },
            SessionTemplate {
                title: "Power intervals",
                exercises: &[
                    reps("Broad jump", 5, 8, 60),
                    reps("Plyometric push-up", 5, 8, 60),
                    timed("Skater hops", 5, 40, 20),
                    reps("Tuck jump", 4, 10, 60),
                ],
            },
            SessionTemplate {
                title: "Sprint ladder",
                exercises: &[
                    timed("Sprint in place", 10, 30, 30),
                    reps("Burpee", 5, 10, 45),
                    timed("Plank jacks", 4, 40, 20),
                ],
            },
        ],
    },
    WorkoutPlan {
        slug: "barbell-powerbuilding",
        name: "Barbell Powerbuilding",
        description: "Eight weeks of heavy triples on the big lifts plus hypertrophy work, four days a week. For lifters who already squat, bench and deadlift with good form.",
        level: Level::Advanced,
        tags: &["strength", "powerbuilding", "muscle-gain"],
        equipment: &["barbell", "squat-rack", "bench", "pull-up-bar", "dumbbells"],
        duration_weeks: 8,
        sessions_per_week: 4,
        minutes_per_session: 70,
        kcal_per_session: 420.0,
        templates: &[
            SessionTemplate {
                title: "Heavy lower",
                exercises: &[
                    reps("Back squat", 5, 3, 210),
                    reps("Romanian deadlift", 4, 6, 150),
                    reps("Bulgarian split squat", 3, 8, 90),
                    reps("Hanging leg raise", 3, 10, 60),
                ],
            },
            SessionTemplate {
                title: "Heavy upper",
                exercises: &[
                    reps("Bench press", 5, 3, 210),
                    reps("Weighted pull-up", 4, 5, 150),
                    reps("Overhead press", 4, 6, 120),
                    reps("Barbell row", 3, 8, 90),
                ],
            },
            SessionTemplate {
                title: "Volume full body",
                exercises: &[
                    reps("Deadlift", 4, 4, 210),
                    reps("Front squat", 3, 6, 150),
                    reps("Incline bench press", 4, 8, 120),
                    timed("Farmer's carry", 4, 40, 90),
                ],
            },
        ],
    },
];

/// What each demo user logs, in the order of `DEMO_ACCOUNTS`.
#[rustfmt::skip]
static DEMO_LOGS: [DemoLog; 2] = [
    DemoLog {
        meal_package: "light-and-satisfying",
        package_workout: PackageWorkout {
            slug: "first-steps-full-body",
            at: at(7, 0),
            activity: Activity::Strength,
            effort: 5,
        },
        own_days: [
            &[
                meal(at(7, 15), MealSlot::Breakfast, "Overnight oats with blueberries and chia", 1.0, Unit::Serving, macros(380.0, 16.0, 52.0, 12.0)).fiber(9.0).sugar(14.0).sodium(120.0),
                meal(at(12, 40), MealSlot::Lunch, "Lentil soup with rye bread", 450.0, Unit::G, macros(520.0, 26.0, 72.0, 12.0)).fiber(16.0).sodium(980.0).notes("Canteen at work"),
                meal(at(16, 0), MealSlot::Snack, "Apple with almond butter", 1.0, Unit::Piece, macros(200.0, 5.0, 22.0, 10.0)).fiber(5.0).sugar(16.0),
                meal(at(19, 10), MealSlot::Dinner, "Grilled salmon, new potatoes and green beans", 1.0, Unit::Serving, macros(610.0, 40.0, 45.0, 28.0)).sodium(420.0),
            ],
            &[
                meal(at(7, 30), MealSlot::Breakfast, "Scrambled eggs on wholegrain toast", 1.0, Unit::Serving, macros(390.0, 22.0, 30.0, 19.0)).fiber(4.0).sodium(520.0),
                meal(at(10, 15), MealSlot::Snack, "Cappuccino with oat milk", 250.0, Unit::Ml, macros(110.0, 3.0, 14.0, 4.5)).sugar(8.0),
                meal(at(13, 0), MealSlot::Lunch, "Chicken and quinoa salad bowl", 380.0, Unit::G, macros(540.0, 42.0, 48.0, 18.0)).fiber(8.0),
                meal(at(19, 30), MealSlot::Dinner, "Tofu and vegetable stir-fry with brown rice", 1.0, Unit::Serving, macros(520.0, 24.0, 62.0, 18.0)).fiber(7.0).sodium(890.0).notes("Went easy on the soy sauce"),
            ],
        ],
        own_workout: LoggedWorkout {
            at: at(18, 0),
            activity: Activity::Running,
            title: "Evening run along the Spree",
            minutes: 35,
            kcal: 330.0,
            effort: 6,
            distance_km: Some(5.8),
            avg_heart_rate: Some(154),
            notes: Some("Easy pace, felt good"),
        },
    },
    DemoLog {
        meal_package: "lean-and-strong",
        package_workout: PackageWorkout {
            slug: "barbell-powerbuilding",
            at: at(17, 30),
            activity: Activity::Strength,
            effort: 8,
        },
        own_days: [
            &[
                meal(at(6, 45), MealSlot::Breakfast, "Protein pancakes with banana and maple syrup", 1.0, Unit::Serving, macros(560.0, 38.0, 68.0, 14.0)).sugar(24.0),
                meal(at(12, 15), MealSlot::Lunch, "Turkey and avocado whole-wheat wraps", 2.0, Unit::Piece, macros(680.0, 45.0, 60.0, 28.0)).fiber(10.0).sodium(1350.0),
                meal(at(15, 30), MealSlot::Snack, "Greek yogurt with granola", 200.0, Unit::G, macros(290.0, 20.0, 32.0, 9.0)).sugar(18.0),
                meal(at(19, 45), MealSlot::Dinner, "Sirloin steak, sweet potato and broccoli", 1.0, Unit::Serving, macros(780.0, 55.0, 62.0, 33.0)).fiber(9.0).sodium(640.0),
            ],
            &[
                meal(at(7, 0), MealSlot::Breakfast, "Bagel with cream cheese and smoked salmon", 1.0, Unit::Piece, macros(520.0, 28.0, 58.0, 18.0)).sodium(1100.0),
                meal(at(12, 30), MealSlot::Lunch, "Chicken burrito bowl with black beans and rice", 1.0, Unit::Serving, macros(820.0, 52.0, 95.0, 24.0)).fiber(14.0).sodium(1280.0),
                meal(at(16, 30), MealSlot::Snack, "Protein shake with milk", 400.0, Unit::Ml, macros(310.0, 40.0, 20.0, 7.0)).sugar(18.0),
                meal(at(20, 0), MealSlot::Dinner, "Whole-wheat pasta with turkey bolognese", 1.0, Unit::Serving, macros(720.0, 48.0, 82.0, 20.0)).fiber(11.0).notes("Meal-prepped on Sunday"),
            ],
        ],
        own_workout: LoggedWorkout {
            at: at(6, 30),
            activity: Activity::Cycling,
            title: "Morning ride along the Hudson",
            minutes: 60,
            kcal: 560.0,
            effort: 5,
            distance_km: Some(24.5),
            avg_heart_rate: Some(138),
            notes: None,
        },
    },
];

// ---------------------------------------------------------------------------------
// Table types and how they become domain values
// ---------------------------------------------------------------------------------

#[derive(Clone, Copy)]
struct Macros {
    kcal: f64,
    protein_g: f64,
    carbs_g: f64,
    fat_g: f64,
}

const fn macros(kcal: f64, protein_g: f64, carbs_g: f64, fat_g: f64) -> Macros {
    Macros {
        kcal,
        protein_g,
        carbs_g,
        fat_g,
    }
}

struct Dish {
    name: &'static str,
    portion_g: f64,
    macros: Macros,
}

const fn dish(
    name: &'static str,
    portion_g: f64,
    kcal: f64,
    protein_g: f64,
    carbs_g: f64,
    fat_g: f64,
) -> Dish {
    Dish {
        name,
        portion_g,
        macros: macros(kcal, protein_g, carbs_g, fat_g),
    }
}

impl Dish {
    fn item(&self, day: u16, slot: MealSlot) -> MealItem {
        MealItem {
            day,
            slot,
            name: valid(self.name),
            portion_g: valid(self.portion_g),
            kcal: valid(self.macros.kcal),
            protein_g: valid(self.macros.protein_g),
            carbs_g: valid(self.macros.carbs_g),
            fat_g: valid(self.macros.fat_g),
        }
    }
}

/// One day of a meal package; the main meals are fields so none can be left out.
struct Menu {
    breakfast: Dish,
    lunch: Dish,
    dinner: Dish,
    snack: Option<Dish>,
}

impl Menu {
    fn courses(&self) -> impl Iterator<Item = (MealSlot, &Dish)> {
        [
            (MealSlot::Breakfast, Some(&self.breakfast)),
            (MealSlot::Lunch, Some(&self.lunch)),
            (MealSlot::Snack, self.snack.as_ref()),
            (MealSlot::Dinner, Some(&self.dinner)),
        ]
        .into_iter()
        .filter_map(|(slot, dish)| Some((slot, dish?)))
    }
}

struct MealPlan {
    slug: &'static str,
    name: &'static str,
    description: &'static str,
    tags: &'static [&'static str],
    diet_tags: &'static [&'static str],
    duration_days: u16,
    /// Repeated in order over the days of the package.
    menus: &'static [Menu],
}

impl MealPlan {
    fn build(&self, id: Uuid) -> MealPackage {
        let items: Vec<MealItem> = (1..=self.duration_days)
            .zip(self.menus.iter().cycle())
            .flat_map(|(day, menu)| menu.courses().map(move |(slot, dish)| dish.item(day, slot)))
            .collect();
        MealPackage {
            id,
            slug: parsed(self.slug),
            name: valid(self.name),
            description: valid(self.description),
            tags: tags(self.tags),
            diet_tags: tags(self.diet_tags),
            duration_days: self.duration_days,
            daily_averages: MealPackage::average_of(&items, self.duration_days),
            items,
            published: true,
            version: first_version(),
        }
    }
}

struct Move {
    name: &'static str,
    sets: u8,
    dose: ExerciseDose,
    rest_s: u16,
}

const fn reps(name: &'static str, sets: u8, reps: u16, rest_s: u16) -> Move {
    Move {
        name,
        sets,
        dose: ExerciseDose::Reps(reps),
        rest_s,
    }
}

const fn timed(name: &'static str, sets: u8, seconds: u32, rest_s: u16) -> Move {
    Move {
        name,
        sets,
        dose: ExerciseDose::DurationS(seconds),
        rest_s,
    }
}

struct SessionTemplate {
    title: &'static str,
    exercises: &'static [Move],
}

struct WorkoutPlan {
    slug: &'static str,
    name: &'static str,
    description: &'static str,
    level: Level,
    tags: &'static [&'static str],
    equipment: &'static [&'static str],
    duration_weeks: u8,
    sessions_per_week: u8,
    minutes_per_session: u16,
    kcal_per_session: f64,
    /// Repeated in order over every session of the programme.
    templates: &'static [SessionTemplate],
}

impl WorkoutPlan {
    fn build(&self, id: Uuid) -> WorkoutPackage {
        let per_week = self.sessions_per_week;
        let sessions = (1..=self.duration_weeks)
            .flat_map(|week| (1..=per_week).map(move |day| (week, day)))
            .zip(self.templates.iter().cycle())
            .map(|((week, day), template)| WorkoutSession {
                week,
                day,
                title: valid(template.title),
                exercises: template
                    .exercises
                    .iter()
                    .map(|exercise| Exercise {
                        name: valid(exercise.name),
                        sets: exercise.sets,
                        dose: exercise.dose,
                        rest_s: exercise.rest_s,
                    })
                    .collect(),
            })
            .collect();
        WorkoutPackage {
            id,
            slug: parsed(self.slug),
            name: valid(self.name),
            description: valid(self.description),
            level: self.level,
            tags: tags(self.tags),
            equipment: tags(self.equipment),
            duration_weeks: self.duration_weeks,
            sessions_per_week: self.sessions_per_week,
            minutes_per_session: self.minutes_per_session,
            kcal_per_session: valid(self.kcal_per_session),
            sessions,
            published: true,
            version: first_version(),
        }
    }
}

struct DemoLog {
    /// Slug of the meal package followed on package days.
    meal_package: &'static str,
    package_workout: PackageWorkout,
    /// The user's own menus for the two days in three that follow no package.
    own_days: [&'static [LoggedMeal]; 2],
    own_workout: LoggedWorkout,
}

struct PackageWorkout {
    slug: &'static str,
    at: NaiveTime,
    activity: Activity,
    effort: u8,
}

impl PackageWorkout {
    /// Successive package days walk through the programme's sessions in order.
    fn data(
        &self,
        package: &WorkoutPackage,
        day: DemoDay,
        timezone: Timezone,
        date: NaiveDate,
    ) -> WorkoutData {
        let session = &package.sessions[day.pick(package.sessions.len())];
        WorkoutData {
            started_at: local_instant(timezone, date, self.at),
            activity: self.activity,
            title: session.title.clone(),
            duration_s: valid(i64::from(package.minutes_per_session) * 60),
            kcal_burned: package.kcal_per_session,
            effort: Some(valid(i64::from(self.effort))),
            distance_km: None,
            avg_heart_rate: None,
            package: Some(PackageRef {
                package_id: package.id,
                package_version: package.version,
            }),
            notes: None,
        }
    }
}

struct LoggedMeal {
    at: NaiveTime,
    slot: MealSlot,
    name: &'static str,
    quantity: f64,
    unit: Unit,
    macros: Macros,
    fiber_g: Option<f64>,
    sugar_g: Option<f64>,
    sodium_mg: Option<f64>,
    notes: Option<&'static str>,
}

const fn meal(
    at: NaiveTime,
    slot: MealSlot,
    name: &'static str,
    quantity: f64,
    unit: Unit,
    macros: Macros,
) -> LoggedMeal {
    LoggedMeal {
        at,
        slot,
        name,
        quantity,
        unit,
        macros,
        fiber_g: None,
        sugar_g: None,
        sodium_mg: None,
        notes: None,
    }
}

impl LoggedMeal {
    const fn fiber(mut self, grams: f64) -> Self {
        self.fiber_g = Some(grams);
        self
    }

    const fn sugar(mut self, grams: f64) -> Self {
        self.sugar_g = Some(grams);
        self
    }

    const fn sodium(mut self, milligrams: f64) -> Self {
        self.sodium_mg = Some(milligrams);
        self
    }

    const fn notes(mut self, notes: &'static str) -> Self {
        self.notes = Some(notes);
        self
    }

    fn data(&self, timezone: Timezone, date: NaiveDate) -> MealData {
        MealData {
            eaten_at: local_instant(timezone, date, self.at),
            slot: self.slot,
            name: valid(self.name),
            quantity: valid(self.quantity),
            unit: self.unit,
            nutrition: Nutrition {
                kcal: valid(self.macros.kcal),
                protein_g: valid(self.macros.protein_g),
                carbs_g: valid(self.macros.carbs_g),
                fat_g: valid(self.macros.fat_g),
                fiber_g: self.fiber_g.map(valid),
                sugar_g: self.sugar_g.map(valid),
                sodium_mg: self.sodium_mg.map(valid),
            },
            source: EntrySource::Manual,
            package: None,
            notes: self.notes.map(valid),
        }
    }
}

struct LoggedWorkout {
    at: NaiveTime,
    activity: Activity,
    title: &'static str,
    minutes: u32,
    kcal: f64,
    effort: u8,
    distance_km: Option<f64>,
    avg_heart_rate: Option<u16>,
    notes: Option<&'static str>,
}

impl LoggedWorkout {
    fn data(&self, timezone: Timezone, date: NaiveDate) -> WorkoutData {
        WorkoutData {
            started_at: local_instant(timezone, date, self.at),
            activity: self.activity,
            title: valid(self.title),
            duration_s: valid(i64::from(self.minutes) * 60),
            kcal_burned: valid(self.kcal),
            effort: Some(valid(i64::from(self.effort))),
            distance_km: self.distance_km.map(valid),
            avg_heart_rate: self.avg_heart_rate.map(|bpm| valid(i64::from(bpm))),
            package: None,
            notes: self.notes.map(valid),
        }
    }
}

/// One day of a meal package logged as eaten, each item at the usual time of its
/// slot. Successive package days walk through the package's days in order.
fn package_day_meals(
    package: &MealPackage,
    day: DemoDay,
    timezone: Timezone,
    date: NaiveDate,
) -> Vec<MealData> {
    let package_day = day.pick(package.duration_days.into()) + 1;
    let reference = PackageRef {
        package_id: package.id,
        package_version: package.version,
    };
    package
        .items
        .iter()
        .filter(|item| usize::from(item.day) == package_day)
        .map(|item| {
            let time = match item.slot {
                MealSlot::Breakfast => at(7, 30),
                MealSlot::Lunch => at(12, 30),
                MealSlot::Snack => at(16, 0),
                MealSlot::Dinner => at(19, 0),
            };
            MealData {
                eaten_at: local_instant(timezone, date, time),
                slot: item.slot,
                name: item.name.clone(),
                quantity: valid(item.portion_g.get()),
                unit: Unit::G,
                nutrition: Nutrition {
                    kcal: item.kcal,
                    protein_g: item.protein_g,
                    carbs_g: item.carbs_g,
                    fat_g: item.fat_g,
                    fiber_g: None,
                    sugar_g: None,
                    sodium_mg: None,
                },
                source: EntrySource::Package,
                package: Some(reference),
                notes: None,
            }
        })
        .collect()
}

fn entry<D: EntryData>(id: Uuid, user: &User, data: D, now: DateTime<Utc>) -> Entry<D> {
    Entry {
        id,
        user_id: user.id,
        local_date: user.timezone.local_date(data.occurred_at()),
        data,
        created_at: now,
        updated_at: now,
    }
}

// ---------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------

/// 2026-01-01T00:00:00Z, the timestamp of every sample id.
const FIXED_MS: u64 = 1_767_225_600_000;

const NS_USER: u8 = 0x01;
const NS_MEAL_PACKAGE: u8 = 0x02;
const NS_WORKOUT_PACKAGE: u8 = 0x03;
/// Entry namespaces are per kind and per demo user (base + account index), so `n`
/// only has to tell days and slots apart.
const NS_MEAL_ENTRY: u8 = 0x10;
const NS_WORKOUT_ENTRY: u8 = 0x20;

/// A UUIDv7 that depends only on its arguments, so every run seeds the same ids.
/// The namespace goes where the version nibble cannot touch it and `n` where the
/// variant bits cannot, keeping distinct arguments distinct.
fn fixed_id(namespace: u8, n: u16) -> Uuid {
    let [high, low] = n.to_be_bytes();
    let bytes = [0, namespace, 0, high, low, 0, 0, 0, 0, 0];
    uuid::Builder::from_unix_timestamp_millis(FIXED_MS, &bytes).into_uuid()
}

/// A user's calendar day counted from 2026-01-01. What a demo day holds, and the ids
/// of its entries, depend only on it: a run on a later day writes the same entries
/// for the days an earlier run already covered and adds only the new day.
#[derive(Debug, Clone, Copy)]
struct DemoDay(i64);

impl DemoDay {
    const ZERO: NaiveDate = NaiveDate::from_ymd_opt(2026, 1, 1).expect("a valid date");
    /// Four slots a day fit in `u16` for this many days (about 44 years) before ids
    /// repeat.
    const ID_DAYS: i64 = 1 << 14;

    fn of(date: NaiveDate) -> Self {
        Self((date - Self::ZERO).num_days())
    }

    /// 0 for a package day, 1 or 2 for the user's own menus; any three consecutive
    /// days see each once.
    fn rotation(self) -> usize {
        self.0.rem_euclid(3) as usize
    }

    /// Steps through `len` things (package days, sessions) one per package day.
    fn pick(self, len: usize) -> usize {
        self.0.div_euclid(3).rem_euclid(len.max(1) as i64) as usize
    }

    fn id_number(self, slot: u16) -> u16 {
        let day = u16::try_from(self.0.rem_euclid(Self::ID_DAYS)).expect("reduced below 2^14");
        day * 4 + slot
    }
}

fn slot_index(slot: MealSlot) -> u16 {
    match slot {
        MealSlot::Breakfast => 0,
        MealSlot::Lunch => 1,
        MealSlot::Dinner => 2,
        MealSlot::Snack => 3,
    }
}

/// The day before yesterday, yesterday and today on the user's wall calendar.
fn recent_days(timezone: Timezone, now: DateTime<Utc>) -> [NaiveDate; 3] {
    let today = timezone.local_date(now);
    [today - Days::new(2), today - Days::new(1), today]
}

fn local_instant(timezone: Timezone, date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
    let local = date.and_time(time);
    // Sample times are daytime, never inside a DST gap; reading the wall time as UTC
    // is a harmless fallback should some zone ever put one there.
    timezone
        .tz()
        .from_local_datetime(&local)
        .earliest()
        .map_or_else(|| local.and_utc(), |at| at.with_timezone(&Utc))
}

const fn at(hour: u32, minute: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(hour, minute, 0).expect("a valid wall-clock time")
}

fn date(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).expect("a valid date")
}

fn by_slug<'a, P: Package>(packages: &'a [P], slug: &str) -> &'a P {
    packages
        .iter()
        .find(|package| package.slug().as_str() == slug)
        .unwrap_or_else(|| panic!("the demo log names the unknown package {slug}"))
}

fn first_version() -> Version {
    Version::try_from(1).expect("1 is a valid version")
}

fn tags(words: &[&str]) -> Vec<Tag> {
    words.iter().map(|word| parsed(word)).collect()
}

// The sample is written by hand, so a value the domain refuses is a bug in this file;
// the tests build every value and catch it before any store sees it.

fn valid<V: Copy + Debug, T: TryFrom<V, Error = InvalidValue>>(value: V) -> T {
    T::try_from(value).unwrap_or_else(|error| panic!("sample value {value:?} is invalid: {error}"))
}

fn parsed<T: FromStr<Err = InvalidValue>>(text: &str) -> T {
    text.parse()
        .unwrap_or_else(|error| panic!("sample value {text:?} is invalid: {error}"))
}

// ---------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet, HashSet};

    use argon2::{Argon2, PasswordHash, PasswordVerifier};

    use super::*;
    use crate::store::MemoryStore;

    /// Instants that stress the local-day logic: both DST switches in each zone and
    /// moments when Berlin and New York are on different calendar days.
    fn sample_instants() -> Vec<DateTime<Utc>> {
        [
            "2026-03-08T04:30:00Z",
            "2026-03-29T00:30:00Z",
            "2026-06-15T12:00:00Z",
            "2026-06-15T23:30:00Z",
            "2026-10-25T01:30:00Z",
            "2026-11-01T05:30:00Z",
            "2027-01-01T00:15:00Z",
        ]
        .into_iter()
        .map(|text| text.parse().unwrap())
        .collect()
    }

    fn within_ten_percent(kcal: f64, protein: f64, carbs: f64, fat: f64) -> bool {
        let from_macros = 4.0 * protein + 4.0 * carbs + 9.0 * fat;
        (kcal - from_macros).abs() <= 0.1 * kcal
    }

    #[test]
    fn fixed_ids_are_uuid_v7_and_distinct() {
        let mut seen = HashSet::new();
        for namespace in [0, 1, 0x10, 0x21, 0xff] {
            for n in [0, 1, 2, 3, 4, 255, 256, 65_535] {
                let id = fixed_id(namespace, n);
                assert_eq!(id.get_version_num(), 7);
                assert_eq!(id.get_variant(), uuid::Variant::RFC4122);
                assert_eq!(id, fixed_id(namespace, n));
                assert!(seen.insert(id), "{namespace}/{n} repeats an id");
            }
        }
        let (seconds, _) = fixed_id(1, 1).get_timestamp().unwrap().to_unix();
        assert_eq!(seconds * 1000, FIXED_MS);
    }

    #[test]
    fn the_catalogue_has_enough_packages_with_unique_slugs() {
        let meals = meal_packages();
        let workouts = workout_packages();
        assert!(meals.len() >= 8);
        assert!(workouts.len() >= 8);
        let meal_slugs: HashSet<_> = meals.iter().map(|p| &p.slug).collect();
        let workout_slugs: HashSet<_> = workouts.iter().map(|p| &p.slug).collect();
        assert_eq!(meal_slugs.len(), meals.len());
        assert_eq!(workout_slugs.len(), workouts.len());
        for package in &meals {
            assert!(package.published);
            assert_eq!(package.version, first_version());
            assert!(!package.tags.is_empty() && !package.diet_tags.is_empty());
        }
        for package in &workouts {
            assert!(package.published);
            assert_eq!(package.version, first_version());
            assert!(!package.tags.is_empty() && !package.equipment.is_empty());
        }
        let levels: HashSet<_> = workouts.iter().map(|p| p.level).collect();
        assert_eq!(levels.len(), 3, "every level is represented");
    }

    #[test]
    fn meal_packages_serve_every_main_meal_on_every_day() {
        for package in meal_packages() {
            assert!((3..=7).contains(&package.duration_days), "{}", package.slug);
            let mut slots_by_day: BTreeMap<u16, Vec<MealSlot>> = BTreeMap::new();
            for item in &package.items {
                slots_by_day.entry(item.day).or_default().push(item.slot);
            }
            let days: Vec<u16> = slots_by_day.keys().copied().collect();
            assert_eq!(
                days,
                (1..=package.duration_days).collect::<Vec<_>>(),
                "{}",
                package.slug
            );
            for (day, slots) in slots_by_day {
                for main in [MealSlot::Breakfast, MealSlot::Lunch, MealSlot::Dinner] {
                    assert!(
                        slots.contains(&main),
                        "{} day {day} lacks {main:?}",
                        package.slug
                    );
                }
                let distinct: HashSet<_> = slots.iter().collect();
                assert_eq!(
                    distinct.len(),
                    slots.len(),
                    "{} day {day} repeats a slot",
                    package.slug
                );
            }
        }
    }

    #[test]
    fn daily_averages_are_computed_from_the_items() {
        for package in meal_packages() {
            assert_eq!(
                package.daily_averages,
                MealPackage::average_of(&package.items, package.duration_days)
            );
            assert!(package.daily_averages.kcal > 1000.0, "{}", package.slug);
        }
    }

    #[test]
    fn energy_agrees_with_macronutrients() {
        for package in meal_packages() {
            for item in &package.items {
                assert!(
                    within_ten_percent(
                        item.kcal.get(),
                        item.protein_g.get(),
                        item.carbs_g.get(),
                        item.fat_g.get()
                    ),
                    "{}: {}",
                    package.slug,
                    item.name
                );
            }
        }
        for entry in demo_meal_entries(Utc::now()) {
            let n = &entry.data.nutrition;
            assert!(
                within_ten_percent(
                    n.kcal.get(),
                    n.protein_g.get(),
                    n.carbs_g.get(),
                    n.fat_g.get()
                ),
                "{}",
                entry.data.name
            );
        }
    }

    #[test]
    fn workout_packages_schedule_every_session_of_every_week() {
        for package in workout_packages() {
            assert!(
                (2..=8).contains(&package.duration_weeks),
                "{}",
                package.slug
            );
            assert!(
                (2..=5).contains(&package.sessions_per_week),
                "{}",
                package.slug
            );
            let scheduled: Vec<(u8, u8)> =
                package.sessions.iter().map(|s| (s.week, s.day)).collect();
            let expected: Vec<(u8, u8)> = (1..=package.duration_weeks)
                .flat_map(|week| (1..=package.sessions_per_week).map(move |day| (week, day)))
                .collect();
            assert_eq!(scheduled, expected, "{}", package.slug);
            assert!(package.sessions.iter().all(|s| !s.exercises.is_empty()));
        }
    }

    #[test]
    fn all_ids_are_uuid_v7_and_unique() {
        let now = Utc::now();
        let ids: Vec<Uuid> = meal_packages()
            .iter()
            .map(|p| p.id)
            .chain(workout_packages().iter().map(|p| p.id))
            .chain(demo_users(now).iter().map(|u| u.id))
            .chain(demo_meal_entries(now).iter().map(|e| e.id))
            .chain(demo_workout_entries(now).iter().map(|e| e.id))
            .collect();
        assert!(ids.iter().all(|id| id.get_version_num() == 7));
        assert_eq!(ids.iter().collect::<HashSet<_>>().len(), ids.len());
    }

    #[test]
    fn demo_accounts_match_their_users() {
        let users = demo_users(Utc::now());
        assert_eq!(users.len(), DEMO_ACCOUNTS.len());
        for (user, account) in users.iter().zip(&DEMO_ACCOUNTS) {
            assert_eq!(user.email.as_str(), account.email);
            assert_eq!(user.role, account.role);
            assert!(user.profile.daily_kcal_target.is_some());
        }
        assert_eq!(users[0].timezone.to_string(), "Europe/Berlin");
        assert_eq!(users[1].timezone.to_string(), "America/New_York");
    }

    #[test]
    fn demo_password_hashes_verify() {
        for (user, account) in demo_users(Utc::now()).iter().zip(&DEMO_ACCOUNTS) {
            let hash = PasswordHash::new(user.password_hash.as_phc()).unwrap();
            assert_eq!(hash.algorithm.as_str(), "argon2id");
            assert!(
                Argon2::default()
                    .verify_password(account.password.as_bytes(), &hash)
                    .is_ok()
            );
            assert!(
                Argon2::default()
                    .verify_password(b"not-the-password", &hash)
                    .is_err()
            );
        }
    }

    #[test]
    fn demo_entries_fall_on_the_users_last_three_local_days() {
        for now in sample_instants() {
            let users = demo_users(now);
            let meals = demo_meal_entries(now);
            let workouts = demo_workout_entries(now);
            for user in &users {
                let days: BTreeSet<NaiveDate> = recent_days(user.timezone, now).into();
                assert_eq!(days.last(), Some(&user.timezone.local_date(now)));

                let own_meals: Vec<_> = meals.iter().filter(|e| e.user_id == user.id).collect();
                let own_workouts: Vec<_> =
                    workouts.iter().filter(|e| e.user_id == user.id).collect();
                for entry in &own_meals {
                    assert_eq!(
                        entry.local_date,
                        user.timezone.local_date(entry.data.eaten_at)
                    );
                    assert_eq!((entry.created_at, entry.updated_at), (now, now));
                }
                for entry in &own_workouts {
                    assert_eq!(
                        entry.local_date,
                        user.timezone.local_date(entry.data.started_at)
                    );
                }

                let mut package_days = 0;
                for day in &days {
                    let of_day: Vec<_> =
                        own_meals.iter().filter(|e| e.local_date == *day).collect();
                    assert!(
                        (3..=4).contains(&of_day.len()),
                        "{now}: {} meals on {day}",
                        of_day.len()
                    );
                    let from_package = of_day
                        .iter()
                        .filter(|e| e.data.source == EntrySource::Package);
                    let from_package = from_package.count();
                    assert!(from_package == 0 || from_package == of_day.len());
                    if from_package > 0 {
                        package_days += 1;
                    }
                }
                assert_eq!(package_days, 1, "{now}");

                let workout_days: BTreeSet<_> = own_workouts.iter().map(|e| e.local_date).collect();
                assert_eq!(own_workouts.len(), 2, "{now}");
                assert_eq!(workout_days.len(), 2, "{now}");
                assert!(workout_days.is_subset(&days));
            }
        }
    }

    #[test]
    fn package_entries_point_at_real_packages() {
        let meals = meal_packages();
        let workouts = workout_packages();
        let now = Utc::now();
        for entry in demo_meal_entries(now) {
            match entry.data.source {
                EntrySource::Manual => assert!(entry.data.package.is_none()),
                EntrySource::Package => {
                    let reference = entry.data.package.unwrap();
                    let package = meals.iter().find(|p| p.id == reference.package_id).unwrap();
                    assert_eq!(reference.package_version, package.version);
                    assert!(
                        package
                            .items
                            .iter()
                            .any(|item| item.name == entry.data.name)
                    );
                }
            }
        }
        let from_packages = demo_workout_entries(now)
            .into_iter()
            .filter_map(|entry| entry.data.package)
            .inspect(|reference| assert!(workouts.iter().any(|p| p.id == reference.package_id)))
            .count();
        assert_eq!(from_packages, DEMO_ACCOUNTS.len());
    }

    #[tokio::test]
    async fn loading_again_changes_nothing_and_a_day_later_adds_only_the_new_day() {
        let store = MemoryStore::new();
        let now: DateTime<Utc> = "2026-06-15T12:00:00Z".parse().unwrap();
        let total = meal_packages().len()
            + workout_packages().len()
            + demo_users(now).len()
            + demo_meal_entries(now).len()
            + demo_workout_entries(now).len();

        let first = load(&store, now).await.unwrap();
        assert_eq!(
            first,
            LoadReport {
                created: total,
                unchanged: 0
            }
        );
        let again = load(&store, now + chrono::Duration::minutes(5))
            .await
            .unwrap();
        assert_eq!(
            again,
            LoadReport {
                created: 0,
                unchanged: total
            }
        );

        let tomorrow = now + chrono::Duration::days(1);
        let ids_before: HashSet<Uuid> = demo_meal_entries(now)
            .iter()
            .map(|e| e.id)
            .chain(demo_workout_entries(now).iter().map(|e| e.id))
            .collect();
        let new_entries = demo_meal_entries(tomorrow)
            .iter()
            .map(|e| e.id)
            .chain(demo_workout_entries(tomorrow).iter().map(|e| e.id))
            .filter(|id| !ids_before.contains(id))
            .count();
        let next_day = load(&store, tomorrow).await.unwrap();
        assert!(new_entries > 0);
        assert_eq!(next_day.created, new_entries);

        let ada = store.get_user(fixed_id(NS_USER, 1)).await.unwrap();
        assert_eq!(ada.email.as_str(), DEMO_ACCOUNTS[0].email);
    }
}
