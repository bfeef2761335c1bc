# Called by benchmarks/bench_peers.py: fit R's glmnet on a problem written as raw binary files.
#
#   Rscript benchmarks/glmnet_fit.R DATADIR LAMBDAFILE THRESH REPEATS OUTFILE [FAMILY]
#
# FAMILY: "gaussian" (default; bench_peers.py) or "binomial" (bench_logistic.py: y > 0.5 is the
# positive class).
# DATADIR holds meta.txt ("n p is_sparse nnz"), y.bin (float64), and either X.bin (float64,
# column-major) or indptr.bin / indices.bin (int32, 0-based CSC) and data.bin (float64).
# LAMBDAFILE holds the lambdas (float64, decreasing), given to glmnet explicitly.
# The fit is glmnet(X, y, lambda, standardize=FALSE, intercept=TRUE, thresh=THRESH): the lasso
# (1/2n)||y - Xw - b||^2 + lambda ||w||_1, glmnet's type.gaussian left at its own default.
# Only the glmnet() call is timed (wall clock), REPEATS times, after a warm-up call on a small
# slice. OUTFILE (float64): k, then REPEATS times, npasses, jerr, a0 (k), beta (p x k, column-major)
# of the last repeat; k is the number of lambdas glmnet returned.

args <- commandArgs(trailingOnly = TRUE)
datadir <- args[1]
lambdafile <- args[2]
thresh <- as.numeric(args[3])
repeats <- as.integer(args[4])
outfile <- args[5]
family <- if (length(args) >= 6) args[6] else "gaussian"

suppressMessages(library(glmnet))

meta <- scan(file.path(datadir, "meta.txt"), quiet = TRUE)
n <- as.integer(meta[1])
p <- as.integer(meta[2])
if (meta[3] == 1) {
  nnz <- as.integer(meta[4])
  indices <- readBin(file.path(datadir, "indices.bin"), "integer", nnz, size = 4)
  indptr <- readBin(file.path(datadir, "indptr.bin"), "integer", p + 1, size = 4)
  values <- readBin(file.path(datadir, "data.bin"), "double", nnz)
  X <- Matrix::sparseMatrix(i = indices, p = indptr, x = values, dims = c(n, p), index1 = FALSE)
} else {
  X <- matrix(readBin(file.path(datadir, "X.bin"), "double", n * p), n, p)
}
y <- readBin(file.path(datadir, "y.bin"), "double", n)
if (family == "binomial") y <- as.numeric(y > 0.5)
lambda <- readBin(lambdafile, "double", 1e6)

# Never stop the path early on deviance: every requested lambda is solved.
glmnet.control(fdev = 0, devmax = 1)
maxit <- 2e9

fit_once <- function(Xa, ya, lam) {
  glmnet(Xa, ya, family = family, lambda = lam, standardize = FALSE, intercept = TRUE,
         thresh = thresh, maxit = maxit)
}

# warm-up: load and touch the Fortran code on a small slice of the same layout
if (family == "binomial") {
  # a slice may hold one class (or, sparse, only zeros): a small random problem of the same layout
  Xw <- matrix(rnorm(300), 60, 5)
  if (meta[3] == 1) Xw <- Matrix::Matrix(Xw, sparse = TRUE)
  invisible(fit_once(Xw, rep(c(0, 1), 30), c(0.05, 0.01)))
} else {
  invisible(fit_once(X[seq_len(min(n, 30)), seq_len(min(p, 20)), drop = FALSE],
                     y[seq_len(min(n, 30))], max(lambda) * c(1, 0.1)))
}

times <- numeric(repeats)
for (r in seq_len(repeats)) {
  invisible(gc())
  t0 <- Sys.time()
  fit <- fit_once(X, y, lambda)
  t1 <- Sys.time()
  times[r] <- as.numeric(difftime(t1, t0, units = "secs"))
}
k <- length(fit$lambda)
beta <- as.matrix(fit$beta)
writeBin(c(k, times, sum(fit$npasses), fit$jerr, as.vector(fit$a0), as.vector(beta)), outfile)
