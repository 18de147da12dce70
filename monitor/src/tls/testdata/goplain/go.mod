module goplain

go 1.17
