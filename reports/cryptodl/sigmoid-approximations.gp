# Drawn by hecnn; render with: gnuplot reports/cryptodl/sigmoid-approximations.gp
set terminal svg size 800,500 dynamic enhanced font 'sans,12' background rgb 'white'
set output 'reports/cryptodl/sigmoid-approximations.svg'
set title 'sigmoid and its polynomial approximations on [-6, 6]' noenhanced
set xlabel 'x' noenhanced
set ylabel 'f(x)' noenhanced
set grid lc rgb '#dddddd'
set key outside right top noenhanced
set border lc rgb '#555555'
set yrange [-0.246291:1.246291]
set style line 1 lc rgb '#1f77b4' lw 3 dt 1 pt 1
set style line 2 lc rgb '#d62728' lw 1.5 dt 2 pt 2
set style line 3 lc rgb '#2ca02c' lw 1.5 dt 2 pt 3
set style line 4 lc rgb '#ff7f0e' lw 1.5 dt 2 pt 4
set style line 5 lc rgb '#9467bd' lw 1.5 dt 2 pt 5
set style line 6 lc rgb '#8c564b' lw 1.5 dt 2 pt 6
plot 'reports/cryptodl/sigmoid-approximations.dat' index 0 using 1:2 with lines ls 1 title 'sigmoid', \
     'reports/cryptodl/sigmoid-approximations.dat' index 1 using 1:2 with lines ls 2 title 'least_squares d3', \
     'reports/cryptodl/sigmoid-approximations.dat' index 2 using 1:2 with lines ls 3 title 'taylor d3', \
     'reports/cryptodl/sigmoid-approximations.dat' index 3 using 1:2 with lines ls 4 title 'chebyshev d3', \
     'reports/cryptodl/sigmoid-approximations.dat' index 4 using 1:2 with lines ls 5 title 'chebyshev_modified d3', \
     'reports/cryptodl/sigmoid-approximations.dat' index 5 using 1:2 with lines ls 6 title 'derivative d3'
