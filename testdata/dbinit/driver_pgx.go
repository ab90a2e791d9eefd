//go:build pgx

package main

import _ "github.com/jackc/pgx/v4/stdlib"

const driverName = "pgx"
