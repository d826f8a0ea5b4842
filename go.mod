module github.com/mailtrail/mailtrail

go 1.26
