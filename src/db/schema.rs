// Written to match migrations/{sqlite,postgres}; `tests/migrations.rs` checks that both backends
// accept every column with these types.

diesel::table! {
    municipalities (code) {
        code -> Text,
        name -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        revision -> BigInt,
    }
}

diesel::table! {
    plans (id) {
        id -> Text,
        municipality_code -> Text,
        year -> Integer,
        title -> Text,
        summary -> Nullable<Text>,
        covers -> Text,
        status -> Text,
        latest_version -> Nullable<Integer>,
        adopted_version -> Nullable<Integer>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        revision -> BigInt,
        content_revision -> BigInt,
    }
}

diesel::joinable!(plans -> municipalities (municipality_code));

diesel::table! {
    users (id) {
        id -> Text,
        username -> Text,
        display_name -> Text,
        role -> Text,
        municipalities -> Text,
        party -> Nullable<Text>,
        password_hash -> Text,
        active -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        revision -> BigInt,
    }
}

diesel::table! {
    clients (id) {
        id -> Text,
        name -> Text,
        role -> Text,
        municipalities -> Text,
        party -> Nullable<Text>,
        secret_hash -> Text,
        active -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        revision -> BigInt,
    }
}

diesel::table! {
    audit_log (id) {
        id -> Text,
        at -> Timestamp,
        actor -> Text,
        action -> Text,
        entity_type -> Text,
        entity_id -> Text,
        request_id -> Nullable<Text>,
        before -> Nullable<Text>,
        after -> Nullable<Text>,
    }
}

diesel::table! {
    idempotency_keys (caller, key) {
        caller -> Text,
        key -> Text,
        request_hash -> Text,
        status -> Nullable<Integer>,
        headers -> Nullable<Text>,
        body -> Nullable<Binary>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    sections (id) {
        id -> Text,
        plan_id -> Text,
        heading -> Text,
        body -> Text,
        position -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        revision -> BigInt,
    }
}

diesel::table! {
    focus_areas (id) {
        id -> Text,
        plan_id -> Text,
        title -> Text,
        description -> Nullable<Text>,
        position -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        revision -> BigInt,
    }
}

diesel::table! {
    goals (id) {
        id -> Text,
        plan_id -> Text,
        focus_area_id -> Nullable<Text>,
        number -> Nullable<Text>,
        title -> Text,
        description -> Nullable<Text>,
        kind -> Text,
        target_groups -> Text,
        initiatives -> Text,
        position -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        revision -> BigInt,
    }
}

diesel::table! {
    requirements (id) {
        id -> Text,
        goal_id -> Text,
        plan_id -> Text,
        statement -> Text,
        indicator -> Text,
        unit -> Text,
        comparator -> Text,
        baseline_value -> Nullable<Double>,
        baseline_as_of -> Nullable<Date>,
        target_value -> Nullable<Double>,
        target_value_max -> Nullable<Double>,
        target_due -> Nullable<Date>,
        target_placeholder -> Bool,
        data_source -> Nullable<Text>,
        frequency -> Nullable<Text>,
        position -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        revision -> BigInt,
    }
}

diesel::table! {
    follow_up_measures (id) {
        id -> Text,
        goal_id -> Text,
        plan_id -> Text,
        indicator -> Text,
        description -> Nullable<Text>,
        unit -> Text,
        data_source -> Nullable<Text>,
        frequency -> Nullable<Text>,
        position -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        revision -> BigInt,
    }
}

diesel::table! {
    versions (plan_id, number) {
        plan_id -> Text,
        number -> Integer,
        label -> Text,
        note -> Nullable<Text>,
        created_at -> Timestamp,
        created_by -> Text,
        body -> Text,
        etag -> Text,
        adopted_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    decisions (id) {
        id -> Text,
        plan_id -> Text,
        body -> Text,
        outcome -> Text,
        version -> Integer,
        meeting_date -> Date,
        case_number -> Nullable<Text>,
        text -> Nullable<Text>,
        recorded_at -> Timestamp,
        recorded_by -> Text,
    }
}

diesel::table! {
    hearings (id) {
        id -> Text,
        plan_id -> Text,
        version -> Integer,
        title -> Text,
        description -> Nullable<Text>,
        opens_at -> Timestamp,
        closes_at -> Timestamp,
        closed_at -> Nullable<Timestamp>,
        parties -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        revision -> BigInt,
    }
}

diesel::table! {
    comments (id) {
        id -> Text,
        hearing_id -> Text,
        plan_id -> Text,
        party -> Text,
        body -> Text,
        stance -> Nullable<Text>,
        target_type -> Nullable<Text>,
        target_id -> Nullable<Text>,
        status -> Text,
        submitted_at -> Timestamp,
        submitted_by -> Text,
        updated_at -> Timestamp,
        response_disposition -> Nullable<Text>,
        response_text -> Nullable<Text>,
        responded_at -> Nullable<Timestamp>,
        responded_by -> Nullable<Text>,
        revision -> BigInt,
    }
}

diesel::table! {
    measurements (id) {
        id -> Text,
        plan_id -> Text,
        requirement_id -> Nullable<Text>,
        follow_up_measure_id -> Nullable<Text>,
        period_end -> Date,
        value -> Double,
        source -> Nullable<Text>,
        note -> Nullable<Text>,
        recorded_at -> Timestamp,
        recorded_by -> Text,
    }
}

diesel::joinable!(comments -> hearings (hearing_id));
diesel::joinable!(versions -> plans (plan_id));

diesel::allow_tables_to_appear_in_same_query!(
    municipalities,
    plans,
    users,
    clients,
    audit_log,
    idempotency_keys,
    sections,
    focus_areas,
    goals,
    requirements,
    follow_up_measures,
    versions,
    decisions,
    hearings,
    comments,
    measurements,
);
