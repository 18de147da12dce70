module goclient

go 1.17
